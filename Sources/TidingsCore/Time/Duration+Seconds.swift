extension Duration {
    /// The duration in seconds, for the `Date` arithmetic the clocks and gates use.
    public var seconds: Double {
        Double(components.seconds) + Double(components.attoseconds) / 1e18
    }
}
