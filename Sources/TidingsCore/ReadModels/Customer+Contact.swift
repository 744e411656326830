import Foundation

extension Customer {
    /// The console's search by address: the email without regard to ASCII case, or the phone
    /// as stored. The stores find candidates by text (`ContactSearch`) and this decides.
    public func hasContact(_ contact: String) -> Bool {
        if let email, email.equalsIgnoringASCIICase(contact) { return true }
        return phone == contact
    }
}
