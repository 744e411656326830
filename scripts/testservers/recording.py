"""What both loopback test servers share: announcing the port and decoding what they record."""
import os


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
