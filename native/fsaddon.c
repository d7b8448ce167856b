/*
 * tsbuild-fsaddon.node: the filesystem calls tsbuild makes too often to make them one at a time
 * from JavaScript.
 *
 * listDir(path) -> [names, nums, times]: one directory's names and their lstat, in one call.
 * Why: a COPY of the build context lstats every kept file on every build, no-op rebuilds too.
 * From Node that is readdirSync plus one lstatSync per name, each a full path walk in the kernel
 * and a BigIntStats object of 18 BigInts; over 25,000 files that was ~130 ms of a 0.25 s no-op
 * build. Here the names are read once and each is fstatat'ed relative to the open directory.
 *     names  every name but "." and "..", sorted by bytes (strcmp), joined with "/" (a name
 *            holds neither "/" nor NUL), "" for an empty directory
 *     nums   Float64Array, 10 per name: st_mode, st_uid, st_gid, st_size, st_dev, st_ino,
 *            st_nlink, st_rdev, mtime seconds, mtime nanoseconds (all exact below 2^53)
 *     times  BigInt64Array, 3 per name: atime, mtime, ctime in nanoseconds
 *
 * listDirs(paths) -> [[names, nums, times], ...]: listDir of each of the NUL-separated paths,
 * the directories shared between the calling thread and a second one (a level of a tree walk:
 * the kernel's lstat work then runs on two cores).
 *
 * prefetch(paths): asks the kernel to start reading these files into the page cache
 * (posix_fadvise WILLNEED) from a thread of its own, in order, and returns at once.
 * Why: the context checksum reads every new or changed file one after another on the main
 * thread; when the files are not cached (this VM pages out file pages idle for ~30 s) each small
 * read waited for the disk alone: 25,000 files took 1.95 s, 0.48 s with the reads issued ahead.
 * `paths` is one string of absolute paths separated by NUL. Nothing is reported back: a path
 * that cannot be opened is skipped, and the hashing that follows reads it (and fails) as before.
 *
 * markTopDir(path) -> boolean: sets FS_TOPDIR_FL on a directory (`chattr +T`), the hint that makes
 * ext2/3/4's Orlov allocator spread the directories created below it (src/build/copy/spread-dirs.ts).
 * Why here: spawning chattr cost the large-context cold build 35 ms on its critical path. False
 * when the file system has no such flag or refuses it; nothing is thrown (it is only a hint).
 *
 * readFilesStart(paths, sizes, data, results) -> handle; readFilesWait(handle) -> uncached:
 * reads whole files into one buffer on up to four threads of their own, in the background
 * until readFilesWait. File i (of the NUL-separated `paths`) goes to `data` at the sum of the sizes
 * before it, up to sizes[i] bytes; results[i] is the byte count read (less than sizes[i] if the
 * file shrank) or -errno. `sizes` and `results` are Float64Arrays, `data` a Buffer of at least
 * the sum of `sizes`; none of them may be touched before readFilesWait returns. `uncached` counts
 * the files that were not whole in the page cache (or were shorter than their size): the caller
 * asks for read-ahead of the files after them only then.
 * Why: a touch-only rebuild re-reads every touched file of the context to see that its content
 * is unchanged. From Node that is openSync, readSync and closeSync per file, one after another
 * on the main thread: 1,000 files / 10 MB took ~12 ms of syscalls and ~6 ms of Node's per-call
 * work out of a 0.086 s rebuild. The caller hashes one batch while the next is read (hashing on
 * these threads with BLAKE3's C code, from Debian's librust-blake3-dev sources, gained nothing
 * on two cores, where the main thread already hashes while a thread reads).
 *
 * sha256Hex(data) -> string: the sha256 of a string (as UTF-8) or a Buffer, in hex, through the
 * OpenSSL that Node exports to addons. Why: a no-op rebuild needs a few sha256 digests (image
 * config, snapshot index names), and loading node:crypto for them cost 2.5–3.5 ms of 0.060 s.
 *
 * hashLayerTar(dir, sourceDateEpoch, cancel, checkXattrs): a layer's diffID on a libuv thread;
 * see layerhash.c.
 *
 * Errors of listDir and listDirs are thrown as Node's fs errors are: an Error with `code`
 * ("ENOENT", ...), `errno` (negative), `syscall` and `path`. Built by scripts/build-native.mjs
 * with Node's own headers (N-API, no node-gyp); without it tsbuild uses readdirSync and lstatSync.
 */
#define _GNU_SOURCE
#define NAPI_VERSION 8
#include <node_api.h>
#include <openssl/evp.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "layerhash.h"

#define NUMS_PER_ENTRY 10
#define TIMES_PER_ENTRY 3

/* The errno's name, as Node's fs errors carry it in `code`. */
static const char *errno_code(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  if (name) return name;
#endif
  switch (err) {
    case ENOENT: return "ENOENT";
    case ENOTDIR: return "ENOTDIR";
    case EACCES: return "EACCES";
    case EPERM: return "EPERM";
    case ELOOP: return "ELOOP";
    case ENAMETOOLONG: return "ENAMETOOLONG";
    case EMFILE: return "EMFILE";
    case ENFILE: return "ENFILE";
    case ENOMEM: return "ENOMEM";
    case EIO: return "EIO";
    default: return "UNKNOWN";
  }
}

/* Throws an fs-style error; always returns NULL so callers can `return throw_errno(...)`. */
static napi_value throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char message[4200], reason[256];
  snprintf(reason, sizeof reason, "%s", strerror(err));
  if (reason[0] >= 'A' && reason[0] <= 'Z') reason[0] += 'a' - 'A'; /* as libuv words it */
  snprintf(message, sizeof message, "%s: %s, %s '%s'", errno_code(err), reason, syscall, path);
  napi_value code, msg, error, value;
  napi_create_string_utf8(env, errno_code(err), NAPI_AUTO_LENGTH, &code);
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, code, msg, &error);
  napi_set_named_property(env, error, "code", code);
  napi_create_int32(env, -err, &value);
  napi_set_named_property(env, error, "errno", value);
  napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "syscall", value);
  napi_create_string_utf8(env, path, NAPI_AUTO_LENGTH, &value);
  napi_set_named_property(env, error, "path", value);
  napi_throw(env, error);
  return NULL;
}

static int compare_names(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static int64_t ns(struct timespec t) {
  return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* Names of one directory (not "." or ".."), in one buffer: `names[i]` point into `*pool`. */
struct listing {
  char *pool;
  size_t pool_len, pool_cap;
  size_t *offsets;
  size_t count, cap;
};

static int listing_add(struct listing *l, const char *name) {
  size_t len = strlen(name) + 1;
  if (l->pool_len + len > l->pool_cap) {
    size_t cap = l->pool_cap ? l->pool_cap * 2 : 4096;
    while (cap < l->pool_len + len) cap *= 2;
    char *p = realloc(l->pool, cap);
    if (!p) return -1;
    l->pool = p;
    l->pool_cap = cap;
  }
  if (l->count == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 64;
    size_t *o = realloc(l->offsets, cap * sizeof *o);
    if (!o) return -1;
    l->offsets = o;
    l->cap = cap;
  }
  memcpy(l->pool + l->pool_len, name, len);
  l->offsets[l->count++] = l->pool_len;
  l->pool_len += len;
  return 0;
}

/* One directory read and stat'ed, in plain memory: no JavaScript is touched, so a thread can do it. */
struct dir_result {
  int err;             /* 0, or the errno of the failure */
  const char *syscall; /* what failed: "scandir" or "lstat" */
  char *failed;        /* the lstat'ed path that failed (malloc'd), NULL when the directory itself did */
  char *text;          /* the names in byte order joined with "/" */
  size_t text_len, count;
  double *nums;        /* NUMS_PER_ENTRY per name */
  int64_t *times;      /* TIMES_PER_ENTRY per name */
};

static void free_result(struct dir_result *r) {
  free(r->failed);
  free(r->text);
  free(r->nums);
  free(r->times);
  memset(r, 0, sizeof *r);
}

static void read_dir(const char *path, struct dir_result *r) {
  memset(r, 0, sizeof *r);
  r->syscall = "scandir";
  struct listing l = {0};
  char **names = NULL;
  DIR *dir = NULL;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || !(dir = fdopendir(fd))) {
    r->err = errno;
    if (fd >= 0) close(fd);
    goto out;
  }
  for (;;) {
    errno = 0; /* readdir reports an error only through errno */
    struct dirent *e = readdir(dir);
    if (!e) {
      if (errno) {
        r->err = errno;
        goto out;
      }
      break;
    }
    const char *n = e->d_name;
    if (n[0] == '.' && (n[1] == 0 || (n[1] == '.' && n[2] == 0))) continue;
    if (listing_add(&l, n) < 0) {
      r->err = ENOMEM;
      goto out;
    }
  }
  names = malloc((l.count ? l.count : 1) * sizeof *names);
  r->nums = malloc((l.count ? l.count : 1) * NUMS_PER_ENTRY * sizeof(double));
  r->times = malloc((l.count ? l.count : 1) * TIMES_PER_ENTRY * sizeof(int64_t));
  r->text = malloc(l.pool_len + 1);
  if (!names || !r->nums || !r->times || !r->text) {
    r->err = ENOMEM;
    goto out;
  }
  for (size_t i = 0; i < l.count; i++) names[i] = l.pool + l.offsets[i];
  qsort(names, l.count, sizeof *names, compare_names);
  for (size_t i = 0; i < l.count; i++) {
    struct stat st;
    if (fstatat(dirfd(dir), names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
      r->err = errno;
      r->syscall = "lstat";
      size_t size = strlen(path) + strlen(names[i]) + 2;
      if ((r->failed = malloc(size))) snprintf(r->failed, size, "%s/%s", path, names[i]);
      goto out;
    }
    double *n = r->nums + i * NUMS_PER_ENTRY;
    n[0] = st.st_mode;
    n[1] = st.st_uid;
    n[2] = st.st_gid;
    n[3] = (double)st.st_size;
    n[4] = (double)st.st_dev;
    n[5] = (double)st.st_ino;
    n[6] = (double)st.st_nlink;
    n[7] = (double)st.st_rdev;
    n[8] = (double)st.st_mtim.tv_sec;
    n[9] = (double)st.st_mtim.tv_nsec;
    int64_t *t = r->times + i * TIMES_PER_ENTRY;
    t[0] = ns(st.st_atim);
    t[1] = ns(st.st_mtim);
    t[2] = ns(st.st_ctim);
    size_t len = strlen(names[i]);
    if (i > 0) r->text[r->text_len++] = '/';
    memcpy(r->text + r->text_len, names[i], len);
    r->text_len += len;
  }
  r->count = l.count;
out:
  if (dir) closedir(dir);
  free(names);
  free(l.pool);
  free(l.offsets);
}

/* [names, nums, times] for a listing that succeeded; else throws its error and returns NULL. */
static napi_value result_to_js(napi_env env, const char *path, const struct dir_result *r) {
  if (r->err) return throw_errno(env, r->err, r->syscall, r->failed ? r->failed : path);
  void *nums_data, *times_data;
  napi_value nums_buf, times_buf, nums, times, joined, result;
  napi_create_arraybuffer(env, r->count * NUMS_PER_ENTRY * sizeof(double), &nums_data, &nums_buf);
  napi_create_arraybuffer(env, r->count * TIMES_PER_ENTRY * sizeof(int64_t), &times_data, &times_buf);
  if (r->count) {
    memcpy(nums_data, r->nums, r->count * NUMS_PER_ENTRY * sizeof(double));
    memcpy(times_data, r->times, r->count * TIMES_PER_ENTRY * sizeof(int64_t));
  }
  napi_create_string_utf8(env, r->text ? r->text : "", r->text_len, &joined);
  napi_create_typedarray(env, napi_float64_array, r->count * NUMS_PER_ENTRY, nums_buf, 0, &nums);
  napi_create_typedarray(env, napi_bigint64_array, r->count * TIMES_PER_ENTRY, times_buf, 0, &times);
  napi_create_array_with_length(env, 3, &result);
  napi_set_element(env, result, 0, joined);
  napi_set_element(env, result, 1, nums);
  napi_set_element(env, result, 2, times);
  return result;
}

/* The first argument, a string, as malloc'd UTF-8 (NULL with a TypeError thrown); its byte length in `*len_out`. */
static char *string_arg(napi_env env, napi_callback_info info, const char *usage, size_t *len_out) {
  size_t argc = 1, len;
  napi_value argv[1];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  char *s = malloc(len + 1);
  if (!s) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], s, len + 1, &len);
  if (len_out) *len_out = len;
  return s;
}

/* The NUL-separated strings of `joined` (`total` bytes), pointing into it; malloc'd, NULL when out of memory. */
static char **split_paths(char *joined, size_t total, size_t *count_out) {
  size_t count = 0;
  for (size_t i = 0; i <= total; i++) if (i == total || joined[i] == 0) count++;
  char **paths = malloc(count * sizeof *paths);
  if (paths)
    for (size_t i = 0, at = 0; i < count; i++) {
      paths[i] = joined + at;
      at += strlen(joined + at) + 1;
    }
  *count_out = count;
  return paths;
}

/* Opens a file to read without updating its atime where allowed (O_NOATIME: owner or root only). */
static int open_noatime(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOATIME);
  if (fd < 0 && errno == EPERM) fd = open(path, O_RDONLY | O_CLOEXEC);
  return fd;
}

static napi_value list_dir(napi_env env, napi_callback_info info) {
  char *path = string_arg(env, info, "listDir(path): path must be a string", NULL);
  if (!path) return NULL;
  struct dir_result r;
  read_dir(path, &r);
  napi_value result = result_to_js(env, path, &r);
  free_result(&r);
  free(path);
  return result;
}

/* Directories per listDirs call below which a second thread is not worth its start (~30 us). */
#define THREAD_MIN_DIRS 8

/* Both threads take the next directory from `next`: a thread that gets no CPU (a busy machine)
   leaves the rest to the other instead of holding half of the level back. */
struct dirs_job {
  char **paths;
  struct dir_result *results;
  size_t count;
  size_t next;
};

static void *read_dirs(void *arg) {
  struct dirs_job *job = arg;
  for (size_t i; (i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->count;) read_dir(job->paths[i], &job->results[i]);
  return NULL;
}

/*
 * listDirs(paths): listDir of each path (NUL-separated) in one call, the directories shared
 * between this thread and a second one, so the kernel's lstat work of a level of the tree runs
 * on two cores. Returns an array in the order of `paths`; throws the first failure in that order.
 */
static napi_value list_dirs(napi_env env, napi_callback_info info) {
  size_t total, count = 0;
  char *joined = string_arg(env, info, "listDirs(paths): paths must be a string", &total);
  if (!joined) return NULL;
  napi_value result = NULL;
  char **paths = split_paths(joined, total, &count);
  struct dir_result *results = calloc(count, sizeof *results);
  if (!paths || !results) {
    napi_throw_error(env, "ENOMEM", "out of memory");
    goto out;
  }
  struct dirs_job job = {paths, results, count, 0}; /* shared with the thread until the join below */
  pthread_t thread;
  int threaded = count >= THREAD_MIN_DIRS && pthread_create(&thread, NULL, read_dirs, &job) == 0;
  read_dirs(&job);
  if (threaded) pthread_join(thread, NULL);
  for (size_t i = 0; i < count; i++) {
    if (results[i].err) {
      result_to_js(env, paths[i], &results[i]); /* throws it */
      goto out;
    }
  }
  napi_create_array_with_length(env, count, &result);
  for (size_t i = 0; i < count; i++) {
    napi_value one = result_to_js(env, paths[i], &results[i]);
    napi_set_element(env, result, i, one);
  }
out:
  if (results) for (size_t i = 0; i < count; i++) free_result(&results[i]);
  free(results);
  free(paths);
  free(joined);
  return result;
}

struct prefetch_job {
  char *paths; /* NUL-separated, owned by the thread */
  size_t len;
};

static void *prefetch_thread(void *arg) {
  struct prefetch_job *job = arg;
  for (size_t at = 0; at < job->len;) {
    const char *path = job->paths + at;
    at += strlen(path) + 1;
    if (!*path) continue;
    int fd = open_noatime(path);
    if (fd < 0) continue;
    posix_fadvise(fd, 0, 0, POSIX_FADV_WILLNEED);
    close(fd);
  }
  free(job->paths);
  free(job);
  return NULL;
}

static napi_value prefetch(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  size_t len;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "prefetch(paths): paths must be a string");
    return NULL;
  }
  struct prefetch_job *job = malloc(sizeof *job);
  char *paths = malloc(len + 1);
  if (!job || !paths) {
    free(job);
    free(paths);
    return NULL; /* only a hint: nothing to report */
  }
  napi_get_value_string_utf8(env, argv[0], paths, len + 1, &len);
  job->paths = paths;
  job->len = len;
  pthread_attr_t attr;
  pthread_t thread;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  pthread_attr_setstacksize(&attr, 64 * 1024);
  if (pthread_create(&thread, &attr, prefetch_thread, job) != 0) {
    free(paths);
    free(job);
  }
  pthread_attr_destroy(&attr);
  return NULL;
}

/* Reading threads per readFilesStart call at most, and the files below which one is enough. */
#define READ_MAX_THREADS 4
#define READ_THREAD_MIN_FILES 16

/* One readFilesStart call: owned by its handle (a napi external). The buffers it reads into are
   referenced until readFilesWait (or the handle's finalizer) has joined its threads. */
struct read_job {
  char *joined; /* the NUL-separated paths, `paths` points into it */
  char **paths;
  const double *sizes;
  size_t *offsets;
  unsigned char *data;
  double *results;
  size_t count;
  size_t next; /* the next file a thread takes */
  size_t uncached; /* files not whole in the page cache when read */
  pthread_t threads[READ_MAX_THREADS];
  size_t started;
  napi_ref refs[3]; /* sizes, data, results */
  bool done;        /* joined and released */
};

/* Reads up to `want` bytes of the file; a file not whole in the page cache (or shorter than
   `want`) is counted in `*uncached`, for the caller's read-ahead decision. */
static double read_one(const char *path, unsigned char *into, size_t want, size_t *uncached) {
  int fd = open_noatime(path);
  if (fd < 0) return -(double)errno;
  size_t got = 0;
  if (want > 0) {
    /* RWF_NOWAIT: only what is cached (EAGAIN if nothing is); the reads below fetch the rest.
       An unsupported flag or any other error also falls through to them. */
    struct iovec iov = {into, want};
    ssize_t n = preadv2(fd, &iov, 1, 0, RWF_NOWAIT);
    if (n > 0) got = (size_t)n;
    if (n < 0 || (size_t)n < want) __atomic_fetch_add(uncached, 1, __ATOMIC_RELAXED);
  }
  while (got < want) {
    ssize_t n = pread(fd, into + got, want - got, (off_t)got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      int e = errno;
      close(fd);
      return -(double)e;
    }
    if (n == 0) break;
    got += (size_t)n;
  }
  close(fd);
  return (double)got;
}

static void *read_files_thread(void *arg) {
  struct read_job *job = arg;
  for (size_t i; (i = __atomic_fetch_add(&job->next, 1, __ATOMIC_RELAXED)) < job->count;)
    job->results[i] = read_one(job->paths[i], job->data + job->offsets[i], (size_t)job->sizes[i], &job->uncached);
  return NULL;
}

static int typed_doubles(napi_env env, napi_value v, size_t want, double **out) {
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float64_array || length < want) return -1;
  *out = data;
  return 0;
}

/* Joins the job's threads and lets go of its buffers; the job itself stays until its handle is collected. */
static void finish_read_job(napi_env env, struct read_job *job) {
  if (job->done) return;
  for (size_t i = 0; i < job->started; i++) pthread_join(job->threads[i], NULL);
  for (int i = 0; i < 3; i++)
    if (job->refs[i]) napi_delete_reference(env, job->refs[i]);
  free(job->offsets);
  free(job->paths);
  free(job->joined);
  job->offsets = NULL;
  job->paths = NULL;
  job->joined = NULL;
  job->done = true;
}

static void free_read_job(napi_env env, void *data, void *hint) {
  (void)hint;
  finish_read_job(env, data); /* a handle dropped without readFilesWait: its threads may still be reading */
  free(data);
}

static napi_value read_files_start(napi_env env, napi_callback_info info) {
  static const char usage[] = "readFilesStart(paths, sizes, data, results): a NUL-separated string, a Float64Array, a Buffer and a Float64Array";
  size_t argc = 4;
  napi_value argv[4];
  size_t total;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 4 ||
      napi_get_value_string_utf8(env, argv[0], NULL, 0, &total) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    return NULL;
  }
  struct read_job *job = calloc(1, sizeof *job);
  if (!job || !(job->joined = malloc(total + 1))) goto oom;
  napi_get_value_string_utf8(env, argv[0], job->joined, total + 1, &total);
  job->paths = split_paths(job->joined, total, &job->count);
  if (!job->paths) goto oom;
  double *sizes;
  size_t data_len;
  if (typed_doubles(env, argv[1], job->count, &sizes) != 0 || typed_doubles(env, argv[3], job->count, &job->results) != 0 ||
      napi_get_buffer_info(env, argv[2], (void **)&job->data, &data_len) != napi_ok) {
    napi_throw_type_error(env, NULL, usage);
    goto fail;
  }
  job->sizes = sizes;
  if (!(job->offsets = malloc(job->count * sizeof *job->offsets))) goto oom;
  size_t offset = 0;
  for (size_t i = 0; i < job->count; i++) {
    if (!(sizes[i] >= 0) || sizes[i] > (double)(data_len - offset)) {
      napi_throw_range_error(env, NULL, "readFilesStart: the sizes add up to more than the buffer holds");
      goto fail;
    }
    job->offsets[i] = offset;
    offset += (size_t)sizes[i];
  }
  for (int i = 0; i < 3; i++) napi_create_reference(env, argv[i + 1], 1, &job->refs[i]);
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  size_t want = job->count < READ_THREAD_MIN_FILES ? 1 : (size_t)(cpus > READ_MAX_THREADS ? READ_MAX_THREADS : cpus > 1 ? cpus : 1);
  while (job->started < want && pthread_create(&job->threads[job->started], NULL, read_files_thread, job) == 0) job->started++;
  if (job->started == 0) read_files_thread(job); /* no thread to be had: read now */
  napi_value handle;
  if (napi_create_external(env, job, free_read_job, NULL, &handle) != napi_ok) {
    free_read_job(env, job, NULL);
    return NULL;
  }
  return handle;
oom:
  napi_throw_error(env, "ENOMEM", "out of memory");
fail:
  if (job) free_read_job(env, job, NULL);
  return NULL;
}

static napi_value read_files_wait(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *job;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_get_value_external(env, argv[0], &job) != napi_ok) {
    napi_throw_type_error(env, NULL, "readFilesWait(handle): handle must be what readFilesStart returned");
    return NULL;
  }
  finish_read_job(env, job);
  napi_value uncached;
  napi_create_double(env, (double)((struct read_job *)job)->uncached, &uncached);
  return uncached;
}

static napi_value sha256_hex(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_valuetype type;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 1 || napi_typeof(env, argv[0], &type) != napi_ok) {
    napi_throw_type_error(env, NULL, "sha256Hex(data): data must be a string or a Buffer");
    return NULL;
  }
  void *data = NULL;
  size_t len = 0;
  char *owned = NULL;
  bool is_buffer = false;
  if (type == napi_string) {
    napi_get_value_string_utf8(env, argv[0], NULL, 0, &len);
    owned = malloc(len + 1);
    if (!owned) {
      napi_throw_error(env, "ENOMEM", "out of memory");
      return NULL;
    }
    napi_get_value_string_utf8(env, argv[0], owned, len + 1, &len);
    data = owned;
  } else if (napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "sha256Hex(data): data must be a string or a Buffer");
    return NULL;
  }
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  int ok = EVP_Digest(data, len, md, &md_len, EVP_sha256(), NULL) == 1 && md_len == 32;
  free(owned);
  if (!ok) {
    napi_throw_error(env, NULL, "sha256Hex: OpenSSL's digest failed");
    return NULL;
  }
  return sha256_hex_value(env, md);
}

static napi_value mark_top_dir(napi_env env, napi_callback_info info) {
  char *path = string_arg(env, info, "markTopDir(path): path must be a string", NULL);
  if (!path) return NULL;
  bool marked = false;
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  free(path);
  if (fd >= 0) {
    int flags = 0; /* the kernel reads and writes an int, whatever the header's long says */
    if (ioctl(fd, FS_IOC_GETFLAGS, &flags) == 0) {
      flags |= FS_TOPDIR_FL;
      marked = ioctl(fd, FS_IOC_SETFLAGS, &flags) == 0;
    }
    close(fd);
  }
  napi_value result;
  napi_get_boolean(env, marked, &result);
  return result;
}

NAPI_MODULE_INIT() {
  static const struct {
    const char *name;
    napi_callback fn;
  } functions[] = {
    {"listDir", list_dir},
    {"listDirs", list_dirs},
    {"prefetch", prefetch},
    {"readFilesStart", read_files_start},
    {"readFilesWait", read_files_wait},
    {"sha256Hex", sha256_hex},
    {"markTopDir", mark_top_dir},
    {"hashLayerTar", hash_layer_tar},
  };
  for (size_t i = 0; i < sizeof functions / sizeof functions[0]; i++) {
    napi_value fn;
    napi_create_function(env, functions[i].name, NAPI_AUTO_LENGTH, functions[i].fn, NULL, &fn);
    napi_set_named_property(env, exports, functions[i].name, fn);
  }
  return exports;
}
