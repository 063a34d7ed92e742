/// The RFC 6960 / RFC 5019 OCSP responder (issue 4): status sources, response signing and the pre-signed cache.
///
/// This module is being built; see `Docs/architecture.md` for what exists so far.
enum OCSPResponderModule {}
