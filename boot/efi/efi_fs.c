/* Files from the loader's own volume and directory: the image's device
 * path names both; the configuration, the hypervisor and every module are
 * read from there, so a user copies one folder to the ESP. */
#include "boot/efi/efi_loader.h"

#include "lib/format.h"
#include "lib/string.h"

#define FALLBACK_DIR "\\EFI\\bulkhead"

static EFI_GUID loaded_image_guid = LOADED_IMAGE_PROTOCOL;
static EFI_GUID sfs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;

static void ascii_to_ucs2(const char *s, CHAR16 *out, size_t out_chars)
{
    size_t n = 0;
    for (; *s && n + 1 < out_chars; s++)
        out[n++] = *s == '/' ? '\\' : (CHAR16)(unsigned char)*s;
    out[n] = 0;
}

/* The directory part of the image's file path nodes (MEDIA_FILEPATH_DP,
 * possibly several in a row), e.g. \EFI\BOOT for \EFI\BOOT\BOOTX64.EFI. */
static void image_dir(EFI_DEVICE_PATH *dp, char *out, size_t size)
{
    size_t n = 0;
    out[0] = '\0';
    for (int guard = 0; dp && guard < 64; guard++) {
        unsigned len = dp->Length[0] | (unsigned)dp->Length[1] << 8;
        if (dp->Type == END_DEVICE_PATH_TYPE || len < 4)
            break;
        if (dp->Type == MEDIA_DEVICE_PATH && dp->SubType == MEDIA_FILEPATH_DP) {
            const CHAR16 *name = ((FILEPATH_DEVICE_PATH *)dp)->PathName;
            size_t chars = (len - 4) / sizeof(CHAR16);
            if (n && out[n - 1] != '\\' && n + 1 < size)
                out[n++] = '\\';
            ucs2_to_ascii(name, chars, out + n, size - n);
            n += strlen(out + n);
        }
        dp = (EFI_DEVICE_PATH *)((uint8_t *)dp + len);
    }
    char *slash = NULL;
    for (char *p = out; *p; p++)
        if (*p == '\\' || *p == '/')
            slash = p;
    if (slash)
        *slash = '\0';
    else
        out[0] = '\0';
}

static EFI_STATUS open_dir(EFI_FILE_HANDLE root, const char *path, struct efi_dir *dir)
{
    CHAR16 p16[256];
    ascii_to_ucs2(path[0] ? path : "\\", p16, 256);
    str_copy(dir->path, path[0] ? path : "\\", sizeof(dir->path));
    return root->Open(root, &dir->handle, p16, EFI_FILE_MODE_READ, 0);
}

static int has_config(struct efi_dir *dir)
{
    EFI_FILE_HANDLE f;
    CHAR16 name[] = L"bulkhead.cfg";
    if (dir->handle->Open(dir->handle, &f, name, EFI_FILE_MODE_READ, 0) != EFI_SUCCESS)
        return 0;
    f->Close(f);
    return 1;
}

EFI_STATUS efi_open_home(struct efi_dir *dir)
{
    EFI_BOOT_SERVICES *bs = efi_st->BootServices;
    EFI_LOADED_IMAGE *li;
    EFI_FILE_IO_INTERFACE *sfs;
    EFI_FILE_HANDLE root;
    EFI_STATUS st = bs->HandleProtocol(efi_image, &loaded_image_guid, (void **)&li);
    if (st != EFI_SUCCESS)
        return efi_fail(st, "no loaded-image protocol for this image (status 0x%llx)",
                        (unsigned long long)st);
    st = bs->HandleProtocol(li->DeviceHandle, &sfs_guid, (void **)&sfs);
    if (st != EFI_SUCCESS)
        return efi_fail(st, "the volume this image came from has no file system (status 0x%llx)",
                        (unsigned long long)st);
    st = sfs->OpenVolume(sfs, &root);
    if (st != EFI_SUCCESS)
        return efi_fail(st, "cannot open the boot volume (status 0x%llx)", (unsigned long long)st);

    char home[256];
    image_dir(li->FilePath, home, sizeof(home));
    if (open_dir(root, home, dir) == EFI_SUCCESS) {
        if (has_config(dir))
            return EFI_SUCCESS;
        dir->handle->Close(dir->handle);
    }
    st = open_dir(root, FALLBACK_DIR, dir);
    if (st != EFI_SUCCESS || !has_config(dir))
        return efi_fail(EFI_NOT_FOUND, "bulkhead.cfg is neither in %s nor in %s",
                        home[0] ? home : "\\", FALLBACK_DIR);
    return EFI_SUCCESS;
}

EFI_STATUS efi_read_file(struct efi_dir *dir, const char *name, uint64_t max_size, uint64_t *addr,
                         uint64_t *size, char *err, size_t errlen)
{
    EFI_BOOT_SERVICES *bs = efi_st->BootServices;
    CHAR16 n16[128];
    EFI_FILE_HANDLE f;
    if (!name[0] || strlen(name) >= 128 || strchr(name, '\\')) {
        fmt_snprintf(err, errlen, "'%s' is not a file name", name);
        return EFI_INVALID_PARAMETER;
    }
    ascii_to_ucs2(name, n16, 128);
    EFI_STATUS st = dir->handle->Open(dir->handle, &f, n16, EFI_FILE_MODE_READ, 0);
    if (st != EFI_SUCCESS) {
        fmt_snprintf(err, errlen, "%s\\%s: not found (status 0x%llx)", dir->path, name,
                     (unsigned long long)st);
        return st;
    }
    union {
        EFI_FILE_INFO info;
        uint8_t raw[sizeof(EFI_FILE_INFO) + 512];
    } fi;
    UINTN fi_size = sizeof(fi);
    st = f->GetInfo(f, &file_info_guid, &fi_size, &fi);
    if (st != EFI_SUCCESS) {
        fmt_snprintf(err, errlen, "%s\\%s: cannot read its size (status 0x%llx)", dir->path, name,
                     (unsigned long long)st);
        goto out;
    }
    if (fi.info.FileSize == 0 || fi.info.FileSize > max_size) {
        fmt_snprintf(err, errlen, "%s\\%s: size %llu is %s", dir->path, name,
                     (unsigned long long)fi.info.FileSize,
                     fi.info.FileSize ? "too large" : "empty");
        st = EFI_BAD_BUFFER_SIZE;
        goto out;
    }
    EFI_PHYSICAL_ADDRESS where = 0xffffffffULL;
    UINTN pages = (fi.info.FileSize + 4095) / 4096;
    st = bs->AllocatePages(AllocateMaxAddress, EfiLoaderData, pages, &where);
    if (st != EFI_SUCCESS) {
        fmt_snprintf(err, errlen, "%s\\%s: no %llu KiB of memory below 4 GiB for it", dir->path,
                     name, (unsigned long long)pages * 4);
        goto out;
    }
    UINTN got = fi.info.FileSize;
    st = f->Read(f, &got, (void *)(uintptr_t)where);
    if (st != EFI_SUCCESS || got != fi.info.FileSize) {
        fmt_snprintf(err, errlen, "%s\\%s: read error (status 0x%llx, %llu of %llu bytes)",
                     dir->path, name, (unsigned long long)st, (unsigned long long)got,
                     (unsigned long long)fi.info.FileSize);
        bs->FreePages(where, pages);
        st = st != EFI_SUCCESS ? st : EFI_DEVICE_ERROR;
        goto out;
    }
    *addr = where;
    *size = got;
out:
    f->Close(f);
    return st;
}
