/*
 * hashLayerTar(dir, sourceDateEpoch, cancel, checkXattrs) -> Promise<[diffIdHex, size] | null>,
 * part of tsbuild-fsaddon.node: the sha256 and byte size of the uncompressed layer tar that
 * src/image/layer/writer.ts's layerTar would produce for `dir`, computed on a libuv thread.
 *
 * Why: a COPY of 25,000 files is hashed right after it is committed (assemble.ts hashLayerEarly),
 * while the next RUN step runs. In JavaScript that was ~550 ms of the main thread (walk, a header
 * object and Buffer per entry, reads handed over from a worker, garbage collection) competing
 * with the RUN for two cores, and the build waited for it after the RUN had finished. Here it is
 * the sha256 (OpenSSL, as Node's crypto: Node exports its symbols to addons) plus the reads.
 *
 * It covers the layers a COPY writes and nothing else, and must give the exact bytes the
 * JavaScript writer gives (test: src/image/layer/native-hash.test.ts compares both on varied
 * trees): directories, regular files with one link, symlinks; names and link targets that are
 * ASCII and fit ustar (a name over 100 bytes split into prefix and name as splitUstarName does);
 * owners below 0o7777777, sizes below 0o77777777777; no xattrs (a COPY writes none, and its
 * caller says so; with `checkXattrs`, as for a RUN's layer, any entry with an xattr at all, which
 * the writer might carry or turn into an opaque-directory entry, makes it decline). Anything
 * else (hard links, devices, fifos, sockets, whiteouts, names that need a pax header, a file whose size changed while read, any error) resolves to null and the
 * caller hashes in JavaScript, which handles (or reports) it. So does a cancelled hash:
 * `cancel` is an Int32Array on shared memory, and a non-zero first element stops the walk.
 *
 * The header layout follows tar-format.ts's ustarBlock: 7 octal digits and a NUL for mode, uid,
 * gid, devmajor, devminor and the checksum; 11 and a NUL for size and mtime; magic "ustar\0" "00";
 * no user or group names. mtime is computed as the JavaScript side computes it from a listing,
 * floor((sec * 1e3 + nsec / 1e6) / 1000) in doubles, clamped to SOURCE_DATE_EPOCH (if >= 0) and
 * to [0, 0o77777777777].
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "layerhash.h"

#define BLOCK 512
#define BATCH (1 << 20)
#define MAX_OCTAL_7 07777777
#define MAX_OCTAL_11 077777777777LL
/* Longest relative path handled; longer ones need pax headers anyway. */
#define MAX_REL 4096

enum outcome { DONE, UNSUPPORTED };

struct job {
  char *root;
  bool check_xattrs;
  double sde; /* < 0: none */
  int32_t *cancel;
  napi_ref cancel_ref;
  napi_deferred deferred;
  napi_async_work work;
  bool ok;
  unsigned char digest[32];
  uint64_t size;
};

struct tar_hash {
  EVP_MD_CTX *md;
  unsigned char *buf; /* tar bytes waiting to be hashed, BATCH at most */
  size_t used;
  uint64_t size;
  double sde;
  int32_t *cancel;
  char rel[MAX_REL + 2];
  /* With check_xattrs: the root, a "/", then the entry's relative path (llistxattr takes a path). */
  bool check_xattrs;
  char *path;
  size_t root_len;
};

/* Whether the entry at t->rel[0..rel_len) has any xattr (or they cannot be listed). */
static bool has_xattrs(struct tar_hash *t, size_t rel_len) {
  memcpy(t->path + t->root_len + 1, t->rel, rel_len);
  t->path[t->root_len + 1 + rel_len] = 0;
  ssize_t n = llistxattr(t->path, NULL, 0);
  if (n < 0) return errno != ENOTSUP; /* a file system without xattrs has none */
  return n > 0;
}

static void flush(struct tar_hash *t) {
  if (t->used) EVP_DigestUpdate(t->md, t->buf, t->used);
  t->used = 0;
}

/* Appends tar bytes; one sha256 update per MiB instead of one per header and file. */
static void put(struct tar_hash *t, const void *data, size_t n) {
  t->size += n;
  if (t->used + n > BATCH) flush(t);
  if (n >= BATCH) {
    EVP_DigestUpdate(t->md, data, n);
    return;
  }
  memcpy(t->buf + t->used, data, n);
  t->used += n;
}

static void put_zeros(struct tar_hash *t, size_t n) {
  static const unsigned char zeros[BLOCK * 2];
  put(t, zeros, n);
}

static bool ascii(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] >= 0x80 || s[i] == 0) return false;
  return true;
}

/* width - 1 zero-padded octal digits and a NUL (values here always fit). */
static void octal(unsigned char *b, int width, uint64_t v) {
  for (int i = width - 2; i >= 0; i--) {
    b[i] = (unsigned char)('0' + (v & 7));
    v >>= 3;
  }
  b[width - 1] = 0;
}

/* The entry's ustar header, or UNSUPPORTED when tar-format.ts would add a pax header. */
static enum outcome header(struct tar_hash *t, const char *name, size_t name_len, char type, const struct stat *st, uint64_t size,
                           const char *link, size_t link_len) {
  const char *tail = name, *prefix = "";
  size_t tail_len = name_len, prefix_len = 0;
  if (!ascii(name, name_len) || name_len > 256) return UNSUPPORTED;
  if (name_len > 100) {
    bool split = false;
    /* The first "/" that leaves at most 155 bytes before it and 100 after (splitUstarName). */
    for (size_t i = 0; i + 1 < name_len; i++) {
      if (name[i] != '/') continue;
      if (i <= 155 && name_len - i - 1 <= 100) {
        prefix = name;
        prefix_len = i;
        tail = name + i + 1;
        tail_len = name_len - i - 1;
        split = true;
        break;
      }
    }
    if (!split) return UNSUPPORTED;
  }
  if (link_len > 100 || !ascii(link, link_len)) return UNSUPPORTED;
  if (st->st_uid > MAX_OCTAL_7 || st->st_gid > MAX_OCTAL_7 || size > (uint64_t)MAX_OCTAL_11) return UNSUPPORTED;

  double mtime = floor(((double)st->st_mtim.tv_sec * 1e3 + (double)st->st_mtim.tv_nsec / 1e6) / 1000);
  if (t->sde >= 0 && mtime > t->sde) mtime = t->sde;
  if (mtime < 0) mtime = 0;
  if (mtime > (double)MAX_OCTAL_11) mtime = (double)MAX_OCTAL_11;

  unsigned char b[BLOCK];
  memset(b, 0, sizeof b);
  memcpy(b, tail, tail_len);
  octal(b + 100, 8, st->st_mode & 07777);
  octal(b + 108, 8, st->st_uid);
  octal(b + 116, 8, st->st_gid);
  octal(b + 124, 12, size);
  octal(b + 136, 12, (uint64_t)mtime);
  b[156] = (unsigned char)type;
  memcpy(b + 157, link, link_len);
  memcpy(b + 257, "ustar\0" "00", 8);
  octal(b + 329, 8, 0);
  octal(b + 337, 8, 0);
  memcpy(b + 345, prefix, prefix_len);
  memset(b + 148, ' ', 8);
  unsigned sum = 0;
  for (int i = 0; i < BLOCK; i++) sum += b[i];
  octal(b + 148, 8, sum);
  put(t, b, BLOCK);
  return DONE;
}

/* The file's bytes and padding; UNSUPPORTED (the JavaScript side reports it) if its size changed. */
static enum outcome content(struct tar_hash *t, int dirfd, const char *name, uint64_t size) {
  int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC); /* O_NOATIME: owner or root only */
  if (fd < 0) return UNSUPPORTED;
  uint64_t got = 0;
  enum outcome r = DONE;
  for (;;) {
    /* Read straight into the batch; one byte more than expected shows a file that grew. */
    if (t->used == BATCH) flush(t);
    size_t room = BATCH - t->used;
    uint64_t want = size - got + 1;
    ssize_t n = read(fd, t->buf + t->used, want < room ? (size_t)want : room);
    if (n < 0) {
      if (errno == EINTR) continue;
      r = UNSUPPORTED;
      break;
    }
    if (n == 0) break;
    got += (uint64_t)n;
    t->used += (size_t)n;
    t->size += (uint64_t)n;
    if (got > size) break;
  }
  close(fd);
  if (r != DONE || got != size) return UNSUPPORTED;
  if (size % BLOCK) put_zeros(t, BLOCK - size % BLOCK);
  return DONE;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Entries of the open directory `dirfd` (relative path t->rel[0..rel_len)) in walk order. */
static enum outcome walk(struct tar_hash *t, int dirfd, size_t rel_len) {
  int listfd = dup(dirfd);
  DIR *dir = listfd < 0 ? NULL : fdopendir(listfd);
  if (!dir) {
    if (listfd >= 0) close(listfd);
    return UNSUPPORTED;
  }
  char **names = NULL;
  size_t count = 0, cap = 0;
  enum outcome r = DONE;
  struct dirent *d;
  while ((d = readdir(dir))) {
    if (!strcmp(d->d_name, ".") || !strcmp(d->d_name, "..")) continue;
    if (count == cap) {
      cap = cap ? cap * 2 : 64;
      char **bigger = realloc(names, cap * sizeof *names);
      if (!bigger) {
        r = UNSUPPORTED;
        break;
      }
      names = bigger;
    }
    if (!(names[count] = strdup(d->d_name))) {
      r = UNSUPPORTED;
      break;
    }
    count++;
  }
  closedir(dir);
  if (r == DONE) qsort(names, count, sizeof *names, compare_names);
  for (size_t i = 0; r == DONE && i < count; i++) {
    if (__atomic_load_n(t->cancel, __ATOMIC_RELAXED)) {
      r = UNSUPPORTED;
      break;
    }
    const char *name = names[i];
    size_t len = strlen(name), at = rel_len ? rel_len + 1 : 0;
    if (at + len + 1 > MAX_REL) {
      r = UNSUPPORTED;
      break;
    }
    if (rel_len) t->rel[rel_len] = '/';
    memcpy(t->rel + at, name, len + 1);
    size_t full = at + len;
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || (t->check_xattrs && has_xattrs(t, full))) {
      r = UNSUPPORTED;
      break;
    }
    if (S_ISDIR(st.st_mode)) {
      t->rel[full] = '/';
      r = header(t, t->rel, full + 1, '5', &st, 0, "", 0);
      t->rel[full] = 0;
      if (r != DONE) break;
      int child = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (child < 0) {
        r = UNSUPPORTED;
        break;
      }
      r = walk(t, child, full);
      close(child);
    } else if (S_ISREG(st.st_mode)) {
      if (st.st_nlink > 1) r = UNSUPPORTED; /* hard links: the JavaScript writer pairs them */
      else if ((r = header(t, t->rel, full, '0', &st, (uint64_t)st.st_size, "", 0)) == DONE)
        r = content(t, dirfd, name, (uint64_t)st.st_size);
    } else if (S_ISLNK(st.st_mode)) {
      char target[101];
      if (st.st_nlink > 1) {
        r = UNSUPPORTED;
        break;
      }
      ssize_t n = readlinkat(dirfd, name, target, sizeof target);
      if (n < 0 || n > 100) r = UNSUPPORTED;
      else r = header(t, t->rel, full, '2', &st, 0, target, (size_t)n);
    } else {
      r = UNSUPPORTED; /* devices, whiteouts, fifos, sockets */
    }
  }
  for (size_t i = 0; i < count; i++) free(names[i]);
  free(names);
  return r;
}

static void execute(napi_env env, void *data) {
  (void)env;
  struct job *job = data;
  struct tar_hash t = {.sde = job->sde, .cancel = job->cancel, .check_xattrs = job->check_xattrs};
  t.md = EVP_MD_CTX_new();
  t.buf = malloc(BATCH);
  t.root_len = strlen(job->root);
  t.path = job->check_xattrs ? malloc(t.root_len + MAX_REL + 3) : NULL;
  if (t.path) {
    memcpy(t.path, job->root, t.root_len);
    t.path[t.root_len] = '/';
  }
  int root = open(job->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (t.md && t.buf && (t.path || !job->check_xattrs) && root >= 0 && EVP_DigestInit_ex(t.md, EVP_sha256(), NULL) == 1 && walk(&t, root, 0) == DONE) {
    put_zeros(&t, 2 * BLOCK);
    flush(&t);
    unsigned len = 0;
    job->ok = EVP_DigestFinal_ex(t.md, job->digest, &len) == 1 && len == 32;
    job->size = t.size;
  }
  if (root >= 0) close(root);
  free(t.path);
  free(t.buf);
  EVP_MD_CTX_free(t.md);
}

napi_value sha256_hex_value(napi_env env, const unsigned char digest[32]) {
  static const char digits[] = "0123456789abcdef";
  char hex[64];
  for (int i = 0; i < 32; i++) {
    hex[2 * i] = digits[digest[i] >> 4];
    hex[2 * i + 1] = digits[digest[i] & 15];
  }
  napi_value value;
  napi_create_string_latin1(env, hex, 64, &value);
  return value;
}

static void complete(napi_env env, napi_status status, void *data) {
  struct job *job = data;
  napi_value result;
  if (status == napi_ok && job->ok) {
    napi_value size;
    napi_create_array_with_length(env, 2, &result);
    napi_create_double(env, (double)job->size, &size);
    napi_set_element(env, result, 0, sha256_hex_value(env, job->digest));
    napi_set_element(env, result, 1, size);
  } else {
    napi_get_null(env, &result);
  }
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_reference(env, job->cancel_ref);
  napi_delete_async_work(env, job->work);
  free(job->root);
  free(job);
}

napi_value hash_layer_tar(napi_env env, napi_callback_info info) {
  size_t argc = 4, len;
  napi_value argv[4];
  double sde;
  bool check_xattrs = false;
  napi_typedarray_type type;
  size_t elements;
  void *cancel;
  const char *usage = "hashLayerTar(dir, sourceDateEpoch, cancel, checkXattrs): a path, a number (-1: none), an Int32Array and a boolean";
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 || napi_get_value_bool(env, argv[3], &check_xattrs) != napi_ok ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok || napi_get_value_double(env, argv[1], &sde) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &type, &elements, &cancel, NULL, NULL) != napi_ok || type != napi_int32_array || elements < 1) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  struct job *job = calloc(1, sizeof *job);
  char *root = malloc(len + 1);
  if (!job || !root) {
    free(job);
    free(root);
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], root, len + 1, &len);
  job->root = root;
  job->check_xattrs = check_xattrs;
  job->sde = sde;
  job->cancel = cancel;
  napi_value promise, name;
  napi_create_reference(env, argv[2], 1, &job->cancel_ref); /* keeps `cancel` alive while the thread reads it */
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "tsbuild:hashLayerTar", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, execute, complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}
