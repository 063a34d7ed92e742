// The system's libcrypto (OpenSSL 3, Debian's libssl-dev), for Signing's LibCrypto type only.
//
// OpenSSL spells several calls as macros (OPENSSL_free, the sk_X509_* stack functions, the
// ERR_R_* reason codes with their flag bits), which Swift does not import; the small inline
// functions below give them a name Swift can call. Nothing here keeps state.
//
// swift-crypto links its own BoringSSL with CCryptoBoringSSL_-prefixed symbols, so this library
// and that one live in one binary without clashes; never include BoringSSL headers here.

#ifndef SIGILLUM_COPENSSL_SHIM_H
#define SIGILLUM_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/opensslv.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/proverr.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <string.h>

/// The kinds of error-queue entries Sigillum tells apart.
typedef enum {
    /// Anything else: a damaged structure, a decoding failure.
    SIGILLUM_OSSL_ERROR_OTHER = 0,
    /// Cipher padding did not check out after decryption: almost always a wrong passphrase.
    SIGILLUM_OSSL_ERROR_BAD_DECRYPT = 1,
    /// The PKCS#12 MAC did not verify: a wrong passphrase (or a damaged file).
    SIGILLUM_OSSL_ERROR_MAC_VERIFY = 2,
    /// No loaded provider offers the algorithm (RC2 and friends without the legacy provider).
    SIGILLUM_OSSL_ERROR_UNSUPPORTED = 3,
    /// A passphrase was needed and the callback had none to give.
    SIGILLUM_OSSL_ERROR_NO_PASSPHRASE = 4,
} sigillum_ossl_error_kind;

/// The kind of one packed error code from ERR_get_error_all.
static inline sigillum_ossl_error_kind sigillum_ossl_error_classify(unsigned long code) {
    int lib = ERR_GET_LIB(code);
    int reason = ERR_GET_REASON(code);
    if (ERR_SYSTEM_ERROR(code)) {
        return SIGILLUM_OSSL_ERROR_OTHER;
    }
    if (reason == ERR_R_UNSUPPORTED) {
        return SIGILLUM_OSSL_ERROR_UNSUPPORTED;
    }
    switch (lib) {
    case ERR_LIB_PKCS12:
        if (reason == PKCS12_R_MAC_VERIFY_FAILURE) return SIGILLUM_OSSL_ERROR_MAC_VERIFY;
        if (reason == PKCS12_R_PKCS12_CIPHERFINAL_ERROR) return SIGILLUM_OSSL_ERROR_BAD_DECRYPT;
        break;
    case ERR_LIB_EVP:
        if (reason == EVP_R_BAD_DECRYPT) return SIGILLUM_OSSL_ERROR_BAD_DECRYPT;
        if (reason == EVP_R_UNSUPPORTED_ALGORITHM || reason == EVP_R_UNSUPPORTED_CIPHER
            || reason == EVP_R_UNKNOWN_CIPHER || reason == EVP_R_UNSUPPORTED_KEY_DERIVATION_FUNCTION
            || reason == EVP_R_UNSUPPORTED_PRF || reason == EVP_R_UNSUPPORTED_PRIVATE_KEY_ALGORITHM) {
            return SIGILLUM_OSSL_ERROR_UNSUPPORTED;
        }
        break;
    case ERR_LIB_PROV:
        if (reason == PROV_R_BAD_DECRYPT) return SIGILLUM_OSSL_ERROR_BAD_DECRYPT;
        if (reason == PROV_R_UNABLE_TO_GET_PASSPHRASE) return SIGILLUM_OSSL_ERROR_NO_PASSPHRASE;
        break;
    case ERR_LIB_PEM:
        if (reason == PEM_R_BAD_DECRYPT) return SIGILLUM_OSSL_ERROR_BAD_DECRYPT;
        if (reason == PEM_R_BAD_PASSWORD_READ) return SIGILLUM_OSSL_ERROR_NO_PASSPHRASE;
        if (reason == PEM_R_UNSUPPORTED_CIPHER || reason == PEM_R_UNSUPPORTED_ENCRYPTION) {
            return SIGILLUM_OSSL_ERROR_UNSUPPORTED;
        }
        break;
    default:
        break;
    }
    return SIGILLUM_OSSL_ERROR_OTHER;
}

/// Pops the oldest error of this thread's queue (0 when empty); `detail` gets its text data, if any.
static inline unsigned long sigillum_ossl_error_pop(const char **detail) {
    const char *data = NULL;
    int flags = 0;
    unsigned long code = ERR_get_error_all(NULL, NULL, NULL, &data, &flags);
    *detail = (code != 0 && data != NULL && (flags & ERR_TXT_STRING) != 0) ? data : NULL;
    return code;
}

/// A passphrase handed to PEM reading through its callback; `requests` counts the callback's calls.
typedef struct {
    const unsigned char *bytes;
    size_t length;
    int requests;
} sigillum_ossl_passphrase;

/// The pem_password_cb: copies the passphrase, or refuses (-1) when there is none or it does not
/// fit; never prompts on a terminal, as OpenSSL's default callback would.
static inline int sigillum_ossl_passphrase_callback(char *buffer, int size, int rwflag, void *userdata) {
    sigillum_ossl_passphrase *passphrase = (sigillum_ossl_passphrase *)userdata;
    (void)rwflag;
    if (passphrase == NULL) return -1;
    passphrase->requests += 1;
    if (passphrase->bytes == NULL || passphrase->length == 0 || size <= 0
        || passphrase->length > (size_t)size) {
        return -1;
    }
    memcpy(buffer, passphrase->bytes, passphrase->length);
    return (int)passphrase->length;
}

/// PEM_read_bio_PrivateKey_ex with the callback above (the default library context).
static inline EVP_PKEY *sigillum_ossl_read_pem_private_key(BIO *bio, sigillum_ossl_passphrase *passphrase) {
    return PEM_read_bio_PrivateKey_ex(bio, NULL, sigillum_ossl_passphrase_callback, passphrase, NULL, NULL);
}

/// sk_X509_num.
static inline int sigillum_ossl_certificate_count(const STACK_OF(X509) *stack) {
    return stack == NULL ? 0 : sk_X509_num(stack);
}

/// sk_X509_value.
static inline X509 *sigillum_ossl_certificate_at(const STACK_OF(X509) *stack, int index) {
    return sk_X509_value(stack, index);
}

/// sk_X509_pop_free(stack, X509_free); NULL is fine.
static inline void sigillum_ossl_certificate_stack_free(STACK_OF(X509) *stack) {
    sk_X509_pop_free(stack, X509_free);
}

/// OPENSSL_free.
static inline void sigillum_ossl_free(void *pointer) {
    OPENSSL_free(pointer);
}

/// OPENSSL_clear_free: zeroes `length` bytes, then frees.
static inline void sigillum_ossl_clear_free(void *pointer, size_t length) {
    OPENSSL_clear_free(pointer, length);
}

#endif
