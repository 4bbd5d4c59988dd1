"""Queue Studio's desktop application (PySide6). Importing this package imports no Qt."""
