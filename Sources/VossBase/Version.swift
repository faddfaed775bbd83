/// Versions every process reports (`ose --version`, the worker `hello`, the control API).
public enum VossVersion {
    /// The product version; the RPM's version is taken from here by the Makefile.
    public static let current = "0.1.0"
    /// The keeper↔worker IPC protocol version (DESIGN.md §2). Bump on incompatible changes.
    public static let ipcProtocol = 1
    /// The control-API version prefix (`/v1/...`).
    public static let controlAPI = "v1"
}
