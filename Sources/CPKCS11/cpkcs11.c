// Loading a PKCS#11 module, and compile-time checks that cpkcs11.h has the Linux ABI layout.

#include "cpkcs11.h"

#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

// The function list is a CK_VERSION (2 octets, padded to pointer alignment) and 68 pointers.
_Static_assert(sizeof(CK_ULONG) == sizeof(void *), "CK_ULONG is unsigned long: 8 octets on LP64 Linux");
_Static_assert(offsetof(CK_FUNCTION_LIST, C_Initialize) == sizeof(void *), "the entry points follow the version");
_Static_assert(sizeof(CK_FUNCTION_LIST) == sizeof(void *) * 69, "68 version 2.x entry points");
_Static_assert(offsetof(CK_FUNCTION_LIST, C_Login) == sizeof(void *) * 19, "C_Login is entry 19");
_Static_assert(offsetof(CK_FUNCTION_LIST, C_Sign) == sizeof(void *) * 44, "C_Sign is entry 44");
_Static_assert(offsetof(CK_FUNCTION_LIST, C_WaitForSlotEvent) == sizeof(void *) * 68, "C_WaitForSlotEvent is last");
_Static_assert(offsetof(CK_TOKEN_INFO, flags) == 96, "flags follow the four text fields");
_Static_assert(sizeof(CK_TOKEN_INFO) == 208, "CK_TOKEN_INFO on LP64");
_Static_assert(sizeof(CK_C_INITIALIZE_ARGS) == 48, "CK_C_INITIALIZE_ARGS on LP64");

static void copy_message(char *error, unsigned long errorSize, const char *message) {
    if (error == NULL || errorSize == 0) {
        return;
    }
    snprintf(error, errorSize, "%s", message != NULL ? message : "unknown error");
}

int sigillum_pkcs11_load(
    const char *path, void **handle, CK_FUNCTION_LIST **functions, CK_RV *rv, char *error, unsigned long errorSize) {
    *handle = NULL;
    *functions = NULL;
    *rv = CKR_OK;
    copy_message(error, errorSize, "");

    void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        copy_message(error, errorSize, dlerror());
        return -1;
    }
    dlerror();
    void *symbol = dlsym(library, "C_GetFunctionList");
    if (symbol == NULL) {
        copy_message(error, errorSize, dlerror());
        dlclose(library);
        return -2;
    }
    CK_C_GetFunctionList getFunctionList;
    memcpy(&getFunctionList, &symbol, sizeof(getFunctionList));
    CK_FUNCTION_LIST *list = NULL;
    CK_RV result = getFunctionList(&list);
    if (result != CKR_OK || list == NULL) {
        *rv = result;
        copy_message(error, errorSize, result != CKR_OK ? "C_GetFunctionList failed" : "C_GetFunctionList gave NULL");
        dlclose(library);
        return -3;
    }
    *handle = library;
    *functions = list;
    return 0;
}

void sigillum_pkcs11_unload(void *handle) {
    if (handle != NULL) {
        dlclose(handle);
    }
}
