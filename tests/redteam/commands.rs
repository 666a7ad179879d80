//! Categories 7 and 8: Docker registry credentials; credentials in command lines, headers and dumps.
