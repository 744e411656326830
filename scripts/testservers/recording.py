"""What both loopback test servers share: announcing the port, decoding what they record, and
holding answers at a point the test chooses."""
import os
import threading


class Hold:
    """--hold-file PATH: while PATH holds a number N, the answer to every request or message
    after the first N (counted from the start, in the order they were recorded) waits until N
    grows past it or the file goes. A test that kills the client at a point of its choosing
    then finds it mid-stream however late it looks: the client cannot finish without answers."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.count = 0

    def place(self) -> int:
        """The next recorded request's place, from 1."""
        with self.lock:
            self.count += 1
            return self.count

    def holds(self, place: int) -> bool:
        if self.path is None:
            return False
        try:
            with open(self.path) as f:
                limit = int(f.read().strip())
        except (OSError, ValueError):
            return False
        return place > limit


def write_port_file(path: str, port: int) -> None:
    """Writes the port atomically, so a reader never sees a partial number."""
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(str(port))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def decode(data: bytes) -> tuple[str, str]:
    """Text for the JSON record, and which encoding produced it."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"
