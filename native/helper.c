/*
 * tsbuild-helper: runs one process in a fresh sandbox (namespaces, overlay root, minimal /dev,
 * read-only /sys, masked /proc paths, Docker's default capabilities) and reports how it ended.
 * The protocol (request on fd 3, JSON-line events on fd 4) is specified in native/README.md.
 *
 * Process tree:  outer (waits, cgroup, reports)  ->  init (PID 1 of the new PID namespace:
 * mounts, pivot_root, user lookup, reaps)  ->  command (drops privileges, execs).
 * Every mount happens inside the init's private mount namespace, so the host never sees them;
 * PR_SET_PDEATHSIG(SIGKILL) on outer and init plus the PID namespace take the whole tree down
 * when tsbuild dies.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define PROTOCOL_VERSION 1
#define REQUEST_FD 3
#define EVENT_FD 4
#define MAX_REQUEST (16u << 20)
/* Exit codes of init/outer telling the outer whether an event was already written. */
#define EXIT_REPORTED 0
#define EXIT_REPORTED_ERROR 1
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

enum tag {
  T_MOUNT = 0x01, T_MOUNT_SOURCE = 0x02, T_MOUNT_TARGET = 0x03, T_MOUNT_OPTION = 0x04,
  T_MOUNT_CWD = 0x05, T_ARG = 0x10, T_ENV = 0x11, T_CWD = 0x12, T_USER = 0x13,
  T_HOSTNAME = 0x14, T_NETWORK = 0x15, T_EXTRA_HOST = 0x16, T_MEMORY = 0x20, T_CPUS = 0x21,
};

struct strlist { char **v; size_t n; };
struct mnt { char *type, *source, *target, *cwd; struct strlist options; };
struct request {
  struct mnt *mounts; size_t nmounts; /* mounts[0] is the root */
  struct strlist args, env, extra_hosts;
  char *cwd, *user, *hostname, *network;
  long long memory; double cpus;
};

static struct request req;
static int rootless;
/* In the command process before exec: a byte here tells init that the start failed. */
static int start_failed_fd = -1;
/* Mount targets the helper had to create in the root ("stubs"), in creation order, removed after
 * the run so they do not end up in the snapshot (BuildKit removes its mount stubs too). */
static struct strlist stubs;
/* Set while populating the sandbox's own /dev tmpfs: what is created there dies with the
 * namespace, so it is not recorded as a stub (saves an unmount and unlink per device at exit). */
static int in_own_tmpfs;

/* ---------- events (fd 4) ---------- */

static void json_str(char *out, size_t cap, size_t *len, const char *s) {
  for (; *s && *len + 8 < cap; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') { out[(*len)++] = '\\'; out[(*len)++] = (char)c; }
    else if (c < 0x20) *len += (size_t)snprintf(out + *len, cap - *len, "\\u%04x", c);
    else out[(*len)++] = (char)c;
  }
}

static void emit(const char *kind, const char *code, const char *msg, const char *extra) {
  char buf[3072];
  size_t n = (size_t)snprintf(buf, sizeof buf, "{\"kind\":\"%s\"", kind);
  if (code) n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"code\":\"%s\"", code);
  if (msg) {
    n += (size_t)snprintf(buf + n, sizeof buf - n, ",\"message\":\"");
    json_str(buf, sizeof buf - 16, &n, msg);
    buf[n++] = '"';
  }
  if (extra) n += (size_t)snprintf(buf + n, sizeof buf - n, ",%s", extra);
  n += (size_t)snprintf(buf + n, sizeof buf - n, "}\n");
  ssize_t w = write(EVENT_FD, buf, n);
  (void)w;
}

static void warnf(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit("warning", NULL, msg, NULL);
}

/* Reports a failure with a stable code and exits; `errno` is appended when with_errno. */
static __attribute__((noreturn)) void fail(const char *code, int with_errno, const char *fmt, ...) {
  int e = errno;
  char msg[1536];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (with_errno && n > 0 && (size_t)n < sizeof msg)
    snprintf(msg + n, sizeof msg - (size_t)n, ": %s", strerror(e));
  char extra[32];
  snprintf(extra, sizeof extra, "\"errno\":%d", with_errno ? e : 0);
  emit("error", code, msg, extra);
  if (start_failed_fd >= 0) {
    ssize_t w = write(start_failed_fd, "x", 1);
    (void)w;
  }
  _exit(EXIT_REPORTED_ERROR);
}

#define SETUP(...) fail("exec/helper-setup", 1, __VA_ARGS__)

/* ---------- request decoding ---------- */

static void readall(int fd, void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(fd, (char *)p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) fail("exec/helper-protocol", 0, "request truncated (%zu of %zu bytes)", got, n);
    got += (size_t)r;
  }
}

static uint32_t le32(const unsigned char *p) {
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void push(struct strlist *l, char *s) {
  l->v = realloc(l->v, (l->n + 2) * sizeof *l->v);
  if (!l->v) abort();
  l->v[l->n++] = s;
  l->v[l->n] = NULL;
}

/* Checks a frame header ("TSBR" or "TSBS", version, body length); returns the body length. */
static uint32_t check_header(const unsigned char *hdr, const char *magic) {
  if (memcmp(hdr, magic, 4) != 0) fail("exec/helper-protocol", 0, "bad request magic");
  if (le32(hdr + 4) != PROTOCOL_VERSION)
    fail("exec/helper-protocol", 0, "protocol version %u not supported (helper speaks %d)",
         le32(hdr + 4), PROTOCOL_VERSION);
  uint32_t len = le32(hdr + 8);
  if (len > MAX_REQUEST) fail("exec/helper-protocol", 0, "request too large");
  return len;
}

/* Decodes a request body (the fields after the 12-byte header) into `req`. */
static void parse_request(const unsigned char *body, uint32_t len) {
  struct mnt *m = NULL;
  for (uint32_t off = 0; off < len;) {
    if (len - off < 5) fail("exec/helper-protocol", 0, "truncated field header");
    unsigned tag = body[off];
    uint32_t flen = le32(body + off + 1);
    off += 5;
    if (flen > len - off) fail("exec/helper-protocol", 0, "truncated field");
    if (memchr(body + off, 0, flen)) fail("exec/helper-protocol", 0, "NUL byte in field %u", tag);
    char *s = strndup((char *)body + off, flen);
    off += flen;
    if (tag >= T_MOUNT_SOURCE && tag <= T_MOUNT_CWD && !m)
      fail("exec/helper-protocol", 0, "mount field before mount");
    switch (tag) {
    case T_MOUNT:
      req.mounts = realloc(req.mounts, (req.nmounts + 1) * sizeof *req.mounts);
      m = &req.mounts[req.nmounts++];
      memset(m, 0, sizeof *m);
      m->type = s;
      break;
    case T_MOUNT_SOURCE: m->source = s; break;
    case T_MOUNT_TARGET: m->target = s; break;
    case T_MOUNT_OPTION: push(&m->options, s); break;
    case T_MOUNT_CWD: m->cwd = s; break;
    case T_ARG: push(&req.args, s); break;
    case T_ENV: push(&req.env, s); break;
    case T_CWD: req.cwd = s; break;
    case T_USER: req.user = s; break;
    case T_HOSTNAME: req.hostname = s; break;
    case T_NETWORK: req.network = s; break;
    case T_EXTRA_HOST: push(&req.extra_hosts, s); break;
    case T_MEMORY: req.memory = atoll(s); break;
    case T_CPUS: req.cpus = atof(s); break;
    default: fail("exec/helper-protocol", 0, "unknown field tag %u", tag);
    }
  }
  if (req.nmounts == 0 || !req.mounts[0].target || strcmp(req.mounts[0].target, "/") != 0)
    fail("exec/helper-protocol", 0, "the first mount must be the root (target /)");
  for (size_t i = 0; i < req.nmounts; i++)
    if (!req.mounts[i].source || !req.mounts[i].target)
      fail("exec/helper-protocol", 0, "mount %zu lacks source or target", i);
  if (req.args.n == 0) fail("exec/helper-protocol", 0, "empty command");
  if (!req.cwd) req.cwd = "/";
  if (!req.user || !*req.user) req.user = "0";
  if (!req.hostname || !*req.hostname) req.hostname = "buildkitsandbox";
  if (!req.network) req.network = "default";
}

/* ---------- small file helpers ---------- */

static int write_file(const char *path, const char *data) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  ssize_t n = write(fd, data, strlen(data));
  int e = errno;
  close(fd);
  errno = e;
  return n == (ssize_t)strlen(data) ? 0 : -1;
}

static char *read_file(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  for (;;) {
    if (len + 1 >= cap) buf = realloc(buf, cap *= 2);
    ssize_t r = read(fd, buf + len, cap - len - 1);
    if (r <= 0) break;
    len += (size_t)r;
  }
  close(fd);
  buf[len] = 0;
  return buf;
}

/* ---------- cgroup limits (outer process): v2, else the v1 memory and cpu hierarchies ---------- */

/* One directory per hierarchy the sandbox joins: v2 uses one, v1 one per controller. */
static char cgroup_dirs[2][PATH_MAX + 32];

/* The calling process's own path in a cgroup hierarchy, from /proc/self/cgroup ("N:ctl:/path"). */
static int own_cgroup_path(const char *controller, char *out, size_t n) {
  char *self = read_file("/proc/self/cgroup");
  if (!self) return -1;
  int found = -1;
  for (char *line = strtok(self, "\n"); line; line = strtok(NULL, "\n")) {
    char *a = strchr(line, ':');
    char *b = a ? strchr(a + 1, ':') : NULL;
    if (!b) continue;
    *b = 0;
    /* the controller list is comma-separated ("cpu,cpuacct"); v2's is empty */
    int match = controller[0] == 0 ? a[1] == 0 : 0;
    for (char *c = a + 1; !match && c && *c; c = strchr(c, ',') ? strchr(c, ',') + 1 : NULL)
      match = strncmp(c, controller, strlen(controller)) == 0 && (c[strlen(controller)] == ',' || c[strlen(controller)] == 0);
    if (match) { snprintf(out, n, "%s", strcmp(b + 1, "/") == 0 ? "" : b + 1); found = 0; break; }
  }
  free(self);
  return found;
}

/* Makes <mount><own path>/tsbuild-<pid> and writes `files` (name, value pairs) into it. */
static void cgroup_make(int slot, const char *mount, const char *own, const char *files[][2], int nfiles) {
  snprintf(cgroup_dirs[slot], sizeof cgroup_dirs[slot], "%s%s/tsbuild-%d", mount, own, (int)getpid());
  if (mkdir(cgroup_dirs[slot], 0755) != 0) {
    warnf("resource limits ignored: creating cgroup %s: %s", cgroup_dirs[slot], strerror(errno));
    cgroup_dirs[slot][0] = 0;
    return;
  }
  char path[sizeof cgroup_dirs[0] + 64];
  for (int i = 0; i < nfiles; i++) {
    if (!files[i][0]) continue;
    snprintf(path, sizeof path, "%s/%s", cgroup_dirs[slot], files[i][0]);
    if (write_file(path, files[i][1]) != 0 && strstr(files[i][0], "swap") == NULL && strstr(files[i][0], "memsw") == NULL)
      warnf("limit ignored: writing %s: %s", path, strerror(errno));
  }
}

static void cgroup_setup_v2(void) {
  char own[PATH_MAX];
  if (own_cgroup_path("", own, sizeof own) != 0) { warnf("resource limits ignored: no cgroup v2 entry in /proc/self/cgroup"); return; }
  char parent[PATH_MAX + 16], sub[PATH_MAX + 48];
  snprintf(parent, sizeof parent, "/sys/fs/cgroup%s", own);
  snprintf(sub, sizeof sub, "%s/cgroup.subtree_control", parent);
  if (req.memory > 0) write_file(sub, "+memory"); /* controllers must be enabled for children */
  if (req.cpus > 0) write_file(sub, "+cpu");
  char mem[32], cpu[48];
  snprintf(mem, sizeof mem, "%lld", req.memory);
  snprintf(cpu, sizeof cpu, "%lld 100000", (long long)(req.cpus * 100000));
  const char *files[3][2] = {
    { req.memory > 0 ? "memory.max" : NULL, mem },
    { req.memory > 0 ? "memory.swap.max" : NULL, "0" }, /* no swap: the limit is the limit */
    { req.cpus > 0 ? "cpu.max" : NULL, cpu },
  };
  cgroup_make(0, "/sys/fs/cgroup", own, files, 3);
}

static void cgroup_setup_v1(void) {
  char own[PATH_MAX], val[32], quota[32];
  if (req.memory > 0) {
    struct stat st;
    if (stat("/sys/fs/cgroup/memory", &st) != 0 || own_cgroup_path("memory", own, sizeof own) != 0) {
      warnf("memory limit ignored: no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory");
    } else {
      snprintf(val, sizeof val, "%lld", req.memory);
      const char *files[2][2] = { { "memory.limit_in_bytes", val }, { "memory.memsw.limit_in_bytes", val } };
      cgroup_make(0, "/sys/fs/cgroup/memory", own, files, 2);
    }
  }
  if (req.cpus > 0) {
    const char *mount = access("/sys/fs/cgroup/cpu/cpu.cfs_quota_us", F_OK) == 0 ? "/sys/fs/cgroup/cpu" : "/sys/fs/cgroup/cpu,cpuacct";
    if (access(mount, F_OK) != 0 || own_cgroup_path("cpu", own, sizeof own) != 0) {
      warnf("cpu limit ignored: no cgroup v1 cpu hierarchy under /sys/fs/cgroup");
    } else {
      snprintf(quota, sizeof quota, "%lld", (long long)(req.cpus * 100000));
      const char *files[2][2] = { { "cpu.cfs_period_us", "100000" }, { "cpu.cfs_quota_us", quota } };
      cgroup_make(1, mount, own, files, 2);
    }
  }
}

static void cgroup_setup(void) {
  if (req.memory <= 0 && req.cpus <= 0) return;
  struct statfs sfs;
  if (statfs("/sys/fs/cgroup", &sfs) != 0) { warnf("resource limits ignored: /sys/fs/cgroup is missing"); return; }
  if (sfs.f_type == CGROUP2_SUPER_MAGIC) cgroup_setup_v2();
  else cgroup_setup_v1();
}

/*
 * cgroup.procs of each limit's cgroup, opened by the outer and inherited by init. Only the
 * command joins (writing "0" moves the writer): init stays outside, so the limit's OOM killer
 * can never pick the sandbox's PID 1 (it did once: after killing the command, the victim's
 * pages were still charged, and init at 333 pages outweighed tr at 332), and init's setup
 * does not count against the RUN's memory.
 */
static int cgroup_procs_fds[2] = { -1, -1 };

static void cgroup_open_procs(void) {
  char path[sizeof cgroup_dirs[0] + 16];
  for (int i = 0; i < 2; i++) {
    if (!cgroup_dirs[i][0]) continue;
    snprintf(path, sizeof path, "%.*s/cgroup.procs", (int)(sizeof path - 16), cgroup_dirs[i]);
    cgroup_procs_fds[i] = open(path, O_WRONLY | O_CLOEXEC);
    if (cgroup_procs_fds[i] < 0) warnf("resource limits ignored: %s: %s", path, strerror(errno));
  }
}

/* Processes that do not join (the outer, init) close their copies. */
static void cgroup_close_procs(void) {
  for (int i = 0; i < 2; i++)
    if (cgroup_procs_fds[i] >= 0) close(cgroup_procs_fds[i]);
}

/* In the command's process, before exec: join the limits' cgroups. */
static void cgroup_join_self(void) {
  for (int i = 0; i < 2; i++) {
    if (cgroup_procs_fds[i] < 0) continue;
    if (write(cgroup_procs_fds[i], "0", 1) != 1) warnf("resource limits ignored: joining %s: %s", cgroup_dirs[i], strerror(errno));
    close(cgroup_procs_fds[i]);
  }
}

/* How many processes the memory limit's OOM killer killed (v2 memory.events, v1 memory.oom_control). */
static long cgroup_oom_kills(void) {
  if (!cgroup_dirs[0][0] || req.memory <= 0) return 0;
  char path[sizeof cgroup_dirs[0] + 32];
  snprintf(path, sizeof path, "%s/memory.events", cgroup_dirs[0]);
  char *text = read_file(path);
  if (!text) {
    snprintf(path, sizeof path, "%s/memory.oom_control", cgroup_dirs[0]);
    text = read_file(path);
  }
  if (!text) return 0;
  long kills = 0;
  for (char *line = text, *nl; line; line = (nl = strchr(line, '\n')) ? nl + 1 : NULL)
    if (strncmp(line, "oom_kill ", 9) == 0) kills = atol(line + 9);
  free(text);
  return kills;
}

static void cgroup_remove(void) {
  for (int i = 0; i < 2; i++) {
    if (!cgroup_dirs[i][0]) continue;
    for (int t = 0; t < 50 && rmdir(cgroup_dirs[i]) != 0 && errno == EBUSY; t++) usleep(2000);
  }
}

/* ---------- rootless: user namespace mapping the caller to root ---------- */

static void enter_user_namespace(void) {
  uid_t uid = geteuid();
  gid_t gid = getegid();
  if (unshare(CLONE_NEWUSER) != 0)
    fail("exec/rootless-unsupported", 1,
         "running without root needs unprivileged user namespaces (sysctl "
         "kernel.unprivileged_userns_clone=1 and user.max_user_namespaces>0); unshare(CLONE_NEWUSER)");
  char map[64];
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)uid);
  if (write_file("/proc/self/uid_map", map) != 0) SETUP("writing uid_map");
  if (write_file("/proc/self/setgroups", "deny") != 0) SETUP("writing setgroups");
  snprintf(map, sizeof map, "0 %u 1\n", (unsigned)gid);
  if (write_file("/proc/self/gid_map", map) != 0) SETUP("writing gid_map");
}

/* ---------- mounting ---------- */

struct mflag { const char *name; unsigned long set, clear; };
static const struct mflag MFLAGS[] = {
  {"ro", MS_RDONLY, 0}, {"rw", 0, MS_RDONLY}, {"nosuid", MS_NOSUID, 0}, {"suid", 0, MS_NOSUID},
  {"nodev", MS_NODEV, 0}, {"dev", 0, MS_NODEV}, {"noexec", MS_NOEXEC, 0}, {"exec", 0, MS_NOEXEC},
  {"bind", MS_BIND, 0}, {"rbind", MS_BIND | MS_REC, 0}, {"noatime", MS_NOATIME, 0},
  {"relatime", MS_RELATIME, 0}, {"strictatime", MS_STRICTATIME, 0}, {"sync", MS_SYNCHRONOUS, 0},
  {"nodiratime", MS_NODIRATIME, 0}, {"private", 0, 0}, {"rprivate", 0, 0}, {NULL, 0, 0},
};

/* Splits containerd-style options into mount(2) flags and the data string. */
static unsigned long parse_options(const struct mnt *m, char *data, size_t cap) {
  unsigned long flags = 0;
  size_t n = 0;
  data[0] = 0;
  int has_userxattr = 0;
  for (size_t i = 0; i < m->options.n; i++) {
    const char *o = m->options.v[i];
    const struct mflag *f = MFLAGS;
    while (f->name && strcmp(f->name, o) != 0) f++;
    if (f->name) { flags = (flags & ~f->clear) | f->set; continue; }
    if (strcmp(o, "userxattr") == 0) has_userxattr = 1;
    int w = snprintf(data + n, cap - n, "%s%s", n ? "," : "", o);
    if (w < 0 || (size_t)w >= cap - n)
      fail("exec/helper-setup", 0, "mount options for %s exceed %zu bytes; use relative paths and cwd",
           m->target, cap);
    n += (size_t)w;
  }
  if (rootless && strcmp(m->type, "overlay") == 0 && !has_userxattr) {
    int w = snprintf(data + n, cap - n, "%suserxattr", n ? "," : "");
    if (w < 0 || (size_t)w >= cap - n) fail("exec/helper-setup", 0, "overlay options too long");
  }
  return flags;
}

/* Mount flags that a user namespace may not clear on remount, taken from the source. */
static unsigned long locked_flags(const char *path) {
  struct statvfs sv;
  unsigned long f = 0;
  if (statvfs(path, &sv) != 0) return 0;
  if (sv.f_flag & ST_NOSUID) f |= MS_NOSUID;
  if (sv.f_flag & ST_NODEV) f |= MS_NODEV;
  if (sv.f_flag & ST_NOEXEC) f |= MS_NOEXEC;
  return f;
}

/*
 * Opens `path` (absolute, inside the root directory fd) without ever leaving the root, even
 * through symlinks or "..", creating missing parents as directories and the last component as
 * a directory (kind 'd') or an empty file (kind 'f'). Returns an O_PATH fd.
 */
static int open_in_root(int rootfd, const char *path, char kind) {
  struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  char *p = buf;
  while (*p == '/') p++;
  if (!*p) return (int)syscall(SYS_openat2, rootfd, ".", &how, sizeof how);
  for (char *slash = p;; ) {
    slash = strchr(slash, '/');
    int last = slash == NULL;
    if (!last) *slash = 0;
    int fd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof how);
    if (fd < 0 && errno == ENOENT) {
      char *base = strrchr(p, '/');
      int dirfd;
      if (base) {
        *base = 0;
        dirfd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof how);
        *base = '/';
        base++;
      } else {
        dirfd = (int)syscall(SYS_openat2, rootfd, ".", &how, sizeof how);
        base = p;
      }
      if (dirfd < 0) return -1;
      /* mkdirat/openat need a real directory fd, not O_PATH: reopen it. */
      char proc[64];
      snprintf(proc, sizeof proc, "/proc/self/fd/%d", dirfd);
      int realdir = open(proc, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      close(dirfd);
      if (realdir < 0) return -1;
      int r;
      if (last && kind == 'f') {
        r = openat(realdir, base, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (r >= 0) close(r);
      } else {
        r = mkdirat(realdir, base, 0755);
      }
      close(realdir);
      if (r < 0 && errno != EEXIST) return -1;
      if (r >= 0 && !in_own_tmpfs) {
        char *stub = malloc(strlen(p) + 2);
        sprintf(stub, "/%s", p);
        push(&stubs, stub);
      }
      fd = (int)syscall(SYS_openat2, rootfd, p, &how, sizeof how);
    }
    if (fd < 0) return -1;
    if (last) return fd;
    close(fd);
    *slash = '/';
    slash++;
  }
}

static void fdpath(char *out, size_t cap, int fd) { snprintf(out, cap, "/proc/self/fd/%d", fd); }

/* Mounts onto `target` inside the root; a bind with MS_RDONLY is remounted read-only. */
static void mount_in_root(int rootfd, const char *source, const char *target, const char *fstype,
                          unsigned long flags, const char *data, char kind) {
  int fd = open_in_root(rootfd, target, kind);
  if (fd < 0) SETUP("creating mount target %s", target);
  char tp[64];
  fdpath(tp, sizeof tp, fd);
  unsigned long first = flags & MS_BIND ? flags & (MS_BIND | MS_REC) : flags;
  if (mount(source, tp, fstype, first, data) != 0) SETUP("mounting %s on %s", source, target);
  close(fd);
  if ((flags & MS_BIND) && (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC))) {
    fd = open_in_root(rootfd, target, kind); /* the new fd sees the mount just made */
    if (fd < 0) SETUP("reopening %s", target);
    fdpath(tp, sizeof tp, fd);
    unsigned long rf = MS_REMOUNT | MS_BIND | (flags & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC));
    if (mount(NULL, tp, NULL, rf | locked_flags(tp), NULL) != 0) SETUP("remounting %s read-only", target);
    close(fd);
  }
}

static void mount_root(const char *at) {
  const struct mnt *m = &req.mounts[0];
  char data[4096];
  unsigned long flags = parse_options(m, data, sizeof data);
  if (m->cwd && chdir(m->cwd) != 0) SETUP("chdir to %s for the root mount", m->cwd);
  if (strcmp(m->type, "bind") == 0) {
    if (mount(m->source, at, NULL, MS_BIND | MS_REC, NULL) != 0) SETUP("bind-mounting root %s", m->source);
    if ((flags & MS_RDONLY) && mount(NULL, at, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(at), NULL) != 0)
      SETUP("remounting root read-only");
  } else if (mount(m->source, at, m->type, flags, data) != 0) {
    if (rootless && strcmp(m->type, "overlay") == 0)
      fail("exec/rootless-unsupported", 1,
           "mounting the overlay root without root needs kernel >= 5.11 (userxattr overlay in a user namespace)");
    SETUP("mounting %s root (%s)", m->type, data);
  }
  if (chdir("/") != 0) SETUP("chdir /");
}

static void mount_dev(int rootfd) {
  mount_in_root(rootfd, "tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", 'd');
  in_own_tmpfs = 1;
  static const struct { const char *name; unsigned major, minor; } devs[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
  };
  if (!rootless) {
    /* As root, mknod as runc does: one call each instead of a file, lookups and a bind mount
     * (which the namespace teardown also has to undo). 0666 like the host's. */
    int devfd = open_in_root(rootfd, "/dev", 'd');
    char dp[64];
    fdpath(dp, sizeof dp, devfd);
    int dir = open(dp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    close(devfd);
    if (dir < 0) SETUP("opening /dev");
    mode_t old = umask(0);
    for (size_t i = 0; i < sizeof devs / sizeof *devs; i++)
      if (mknodat(dir, devs[i].name, S_IFCHR | 0666, makedev(devs[i].major, devs[i].minor)) != 0)
        SETUP("creating /dev/%s", devs[i].name);
    umask(old);
    close(dir);
  } else {
    /* A user namespace may not create device nodes: bind the host's. */
    for (size_t i = 0; i < sizeof devs / sizeof *devs; i++) {
      char path[32];
      snprintf(path, sizeof path, "/dev/%s", devs[i].name);
      if (access(path, F_OK) != 0) continue;
      mount_in_root(rootfd, path, path, NULL, MS_BIND, NULL, 'f');
    }
  }
  int fd = open_in_root(rootfd, "/dev/pts", 'd');
  if (fd < 0) SETUP("creating /dev/pts");
  char tp[64];
  fdpath(tp, sizeof tp, fd);
  if (mount("devpts", tp, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620,gid=5") != 0 &&
      mount("devpts", tp, "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620") != 0)
    SETUP("mounting devpts");
  close(fd);
  mount_in_root(rootfd, "shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k", 'd');
  fd = open_in_root(rootfd, "/dev/mqueue", 'd');
  if (fd >= 0) {
    fdpath(tp, sizeof tp, fd);
    mount("mqueue", tp, "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL); /* optional, as in runc */
    close(fd);
  }
  int devfd = open_in_root(rootfd, "/dev", 'd');
  fdpath(tp, sizeof tp, devfd);
  int dir = open(tp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  close(devfd);
  static const char *const links[][2] = {
    {"ptmx", "pts/ptmx"}, {"fd", "/proc/self/fd"}, {"stdin", "/proc/self/fd/0"},
    {"stdout", "/proc/self/fd/1"}, {"stderr", "/proc/self/fd/2"},
  };
  for (size_t i = 0; i < sizeof links / sizeof *links; i++)
    if (symlinkat(links[i][1], dir, links[i][0]) != 0) SETUP("creating /dev/%s", links[i][0]);
  close(dir);
  in_own_tmpfs = 0;
}

static void mount_sys(int rootfd) {
  int fd = open_in_root(rootfd, "/sys", 'd');
  if (fd < 0) SETUP("creating /sys");
  char tp[64];
  fdpath(tp, sizeof tp, fd);
  if (mount("sysfs", tp, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) != 0) {
    /* A user namespace may mount sysfs only in a network namespace it owns: bind the host's. */
    if (mount("/sys", tp, NULL, MS_BIND | MS_REC, NULL) != 0) SETUP("mounting /sys");
    close(fd);
    fd = open_in_root(rootfd, "/sys", 'd');
    fdpath(tp, sizeof tp, fd);
    mount(NULL, tp, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(tp), NULL);
  }
  close(fd);
}

/* ---------- /etc/hosts, /etc/resolv.conf ---------- */

static int is_loopback_ns(const char *line) {
  char addr[128];
  if (sscanf(line, " nameserver %127s", addr) != 1) return 0;
  return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0;
}

static char *resolv_conf(void) {
  char *host = read_file("/etc/resolv.conf");
  if (!host) host = strdup("");
  if (strcmp(req.network, "host") == 0) return host;
  /* systemd-resolved's stub lists only 127.0.0.53; its upstream file has the real servers. */
  if (strstr(host, "nameserver 127.0.0.53")) {
    char *up = read_file("/run/systemd/resolve/resolv.conf");
    if (up) { free(host); host = up; }
  }
  size_t cap = strlen(host) + 256, n = 0;
  char *out = malloc(cap);
  int servers = 0;
  for (char *line = strtok(host, "\n"); line; line = strtok(NULL, "\n")) {
    if (is_loopback_ns(line)) continue;
    if (strstr(line, "nameserver") == line + strspn(line, " \t")) servers++;
    n += (size_t)snprintf(out + n, cap - n, "%s\n", line);
  }
  if (!servers)
    snprintf(out + n, cap - n, "nameserver 8.8.8.8\nnameserver 8.8.4.4\n"
             "nameserver 2001:4860:4860::8888\nnameserver 2001:4860:4860::8844\n");
  free(host);
  return out;
}

static void write_etc_files(const char *dir) {
  char path[PATH_MAX];
  snprintf(path, sizeof path, "%s/hosts", dir);
  FILE *f = fopen(path, "w");
  if (!f) SETUP("writing %s", path);
  fprintf(f, "127.0.0.1\tlocalhost %s\n::1\tlocalhost ip6-localhost ip6-loopback\n", req.hostname);
  for (size_t i = 0; i < req.extra_hosts.n; i++) fprintf(f, "%s\n", req.extra_hosts.v[i]);
  fclose(f);
  snprintf(path, sizeof path, "%s/resolv.conf", dir);
  f = fopen(path, "w");
  if (!f) SETUP("writing %s", path);
  char *rc = resolv_conf();
  fputs(rc, f);
  free(rc);
  fclose(f);
}

/* ---------- masked and read-only paths (Docker's defaults) ---------- */

static const char *const MASKED[] = {
  "/proc/asound", "/proc/acpi", "/proc/interrupts", "/proc/kcore", "/proc/keys",
  "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
  "/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap", NULL,
};
static const char *const READONLY[] = {
  "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static void mask_paths(void) {
  struct stat st;
  for (const char *const *p = MASKED; *p; p++) {
    if (stat(*p, &st) != 0) continue;
    int r = S_ISDIR(st.st_mode) ? mount("tmpfs", *p, "tmpfs", MS_RDONLY, "size=0")
                                : mount("/dev/null", *p, NULL, MS_BIND, NULL);
    if (r != 0) SETUP("masking %s", *p);
  }
  for (const char *const *p = READONLY; *p; p++) {
    if (stat(*p, &st) != 0) continue;
    if (mount(*p, *p, NULL, MS_BIND | MS_REC, NULL) != 0 ||
        mount(NULL, *p, NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | locked_flags(*p), NULL) != 0)
      SETUP("making %s read-only", *p);
  }
}

/* ---------- user resolution (inside the new root) ---------- */

struct user { uid_t uid; gid_t gid; char home[PATH_MAX]; gid_t groups[64]; int ngroups; };

static int all_digits(const char *s) {
  if (!*s) return 0;
  for (; *s; s++) if (!isdigit((unsigned char)*s)) return 0;
  return 1;
}

/* Splits a passwd/group line into fields in place; returns the field count. */
static int fields(char *line, char **f, int max) {
  int n = 0;
  f[n++] = line;
  for (char *p = line; *p && n < max; p++) if (*p == ':') { *p = 0; f[n++] = p + 1; }
  return n;
}

static void resolve_user(struct user *u) {
  char spec[512];
  snprintf(spec, sizeof spec, "%s", req.user);
  char *grp = strchr(spec, ':');
  if (grp) *grp++ = 0;
  const char *name = *spec ? spec : "0";
  char matched[256] = "";
  int found = 0;
  u->gid = 0;
  snprintf(u->home, sizeof u->home, "/");
  char *pw = read_file("/etc/passwd");
  for (char *save, *line = pw ? strtok_r(pw, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
    char *f[7];
    if (fields(line, f, 7) < 7) continue;
    if (strcmp(f[0], name) == 0 || (all_digits(name) && strcmp(f[2], name) == 0)) {
      u->uid = (uid_t)atol(f[2]);
      u->gid = (gid_t)atol(f[3]);
      snprintf(u->home, sizeof u->home, "%s", f[5]);
      snprintf(matched, sizeof matched, "%s", f[0]);
      found = 1;
      break;
    }
  }
  free(pw);
  if (!found) {
    if (!all_digits(name))
      fail("exec/user-not-found", 0, "unable to find user %s: no matching entries in passwd file", name);
    u->uid = (uid_t)atol(name);
  }
  u->ngroups = 0;
  if (grp && all_digits(grp)) { u->gid = (gid_t)atol(grp); }
  if ((grp && !all_digits(grp)) || (!grp && matched[0])) {
    char *gr = read_file("/etc/group");
    int gfound = 0;
    for (char *save, *line = gr ? strtok_r(gr, "\n", &save) : NULL; line; line = strtok_r(NULL, "\n", &save)) {
      char *f[4];
      if (fields(line, f, 4) < 4) continue;
      if (grp) {
        if (strcmp(f[0], grp) == 0) { u->gid = (gid_t)atol(f[2]); gfound = 1; break; }
        continue;
      }
      for (char *save2, *m = strtok_r(f[3], ",", &save2); m; m = strtok_r(NULL, ",", &save2))
        if (strcmp(m, matched) == 0 && u->ngroups < 64) { u->groups[u->ngroups++] = (gid_t)atol(f[2]); break; }
    }
    free(gr);
    if (grp && !gfound)
      fail("exec/group-not-found", 0, "unable to find group %s: no matching entries in group file", grp);
  }
}

/* ---------- the command process ---------- */

static const int DEFAULT_CAPS[] = {
  CAP_CHOWN, CAP_DAC_OVERRIDE, CAP_FSETID, CAP_FOWNER, CAP_MKNOD, CAP_NET_RAW, CAP_SETGID,
  CAP_SETUID, CAP_SETFCAP, CAP_SETPCAP, CAP_NET_BIND_SERVICE, CAP_SYS_CHROOT, CAP_KILL, CAP_AUDIT_WRITE,
};

static void drop_capabilities(void) {
  uint64_t keep = 0;
  for (size_t i = 0; i < sizeof DEFAULT_CAPS / sizeof *DEFAULT_CAPS; i++) keep |= 1ull << DEFAULT_CAPS[i];
  char *last = read_file("/proc/sys/kernel/cap_last_cap");
  int lastcap = last ? atoi(last) : 40;
  free(last);
  for (int c = 0; c <= lastcap; c++)
    if (!(keep & (1ull << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) != 0 && errno != EINVAL)
      SETUP("dropping capability %d from the bounding set", c);
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
  struct __user_cap_data_struct d[2];
  memset(d, 0, sizeof d);
  d[0].effective = d[0].permitted = (uint32_t)keep;
  d[1].effective = d[1].permitted = (uint32_t)(keep >> 32);
  /* Inheritable stays empty, as in runc/containerd since CVE-2022-24769. */
  if (syscall(SYS_capset, &h, d) != 0) SETUP("setting capabilities");
}

static const char *env_get(const char *key) {
  size_t k = strlen(key);
  for (size_t i = 0; i < req.env.n; i++)
    if (strncmp(req.env.v[i], key, k) == 0 && req.env.v[i][k] == '=') return req.env.v[i] + k + 1;
  return NULL;
}

/* Finds args[0] on PATH from the request's env (not the helper's), reporting Go-style errors. */
static void exec_command(void) {
  const char *cmd = req.args.v[0];
  if (strchr(cmd, '/')) {
    execve(cmd, req.args.v, req.env.v);
    if (errno == ENOENT)
      fail("exec/command-not-found", 0, "exec: \"%s\": stat %s: no such file or directory", cmd, cmd);
    fail("exec/command-failed", 1, "exec: \"%s\"", cmd);
  }
  const char *path = env_get("PATH");
  if (!path) path = DEFAULT_PATH;
  char *dirs = strdup(path);
  int denied = 0;
  for (char *save, *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
    char full[PATH_MAX];
    snprintf(full, sizeof full, "%s/%s", *d ? d : ".", cmd);
    struct stat st;
    if (stat(full, &st) != 0 || S_ISDIR(st.st_mode)) continue;
    if (access(full, X_OK) != 0) { denied = 1; continue; }
    req.args.v[0] = full;
    execve(full, req.args.v, req.env.v);
    if (errno == EACCES) { denied = 1; continue; }
    fail("exec/command-failed", 1, "exec: \"%s\"", cmd);
  }
  if (denied) fail("exec/command-failed", 0, "exec: \"%s\": permission denied", cmd);
  fail("exec/command-not-found", 0, "exec: \"%s\": executable file not found in $PATH", cmd);
}

static void mkdir_p(const char *path) {
  char buf[PATH_MAX];
  snprintf(buf, sizeof buf, "%s", path);
  for (char *p = buf + 1;; p++) {
    if (*p == '/' || !*p) {
      char c = *p;
      *p = 0;
      if (mkdir(buf, 0755) != 0 && errno != EEXIST) SETUP("creating working directory %s", buf);
      *p = c;
      if (!c) break;
    }
  }
}

static __attribute__((noreturn)) void run_command(const struct user *u) {
  cgroup_join_self();
  if (chdir(req.cwd) != 0) SETUP("chdir to working directory %s", req.cwd);
  drop_capabilities();
  if (!rootless && setgroups((size_t)u->ngroups, u->groups) != 0) SETUP("setgroups");
  if (setresgid(u->gid, u->gid, u->gid) != 0) {
    if (rootless) fail("exec/rootless-unsupported", 1, "gid %u is not mapped without root (only 0 is)", (unsigned)u->gid);
    SETUP("setgid %u", (unsigned)u->gid);
  }
  if (setresuid(u->uid, u->uid, u->uid) != 0) {
    if (rootless) fail("exec/rootless-unsupported", 1, "uid %u is not mapped without root (only 0 is)", (unsigned)u->uid);
    SETUP("setuid %u", (unsigned)u->uid);
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL); /* cleared by the credential change above, so set it now */
  if (!env_get("HOME")) {
    char *h = malloc(strlen(u->home) + 6);
    sprintf(h, "HOME=%s", u->home);
    push(&req.env, h);
  }
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  exec_command();
  _exit(127);
}

/* ---------- init: PID 1 of the sandbox ---------- */

/* Unmounts and deletes the stubs (newest first) unless the run put something in them. */
static void remove_stubs(void) {
  for (size_t i = stubs.n; i-- > 0;) {
    const char *p = stubs.v[i];
    while (umount2(p, MNT_DETACH) == 0) {}
    struct stat st;
    if (lstat(p, &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) rmdir(p);
    else if (S_ISREG(st.st_mode) && st.st_size == 0) unlink(p);
  }
}

static void bring_up_loopback(void) {
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct ifreq ifr;
  memset(&ifr, 0, sizeof ifr);
  snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "lo");
  if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0) SETUP("reading lo flags");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  if (ioctl(s, SIOCSIFFLAGS, &ifr) != 0) SETUP("bringing lo up");
  close(s);
}

static const char *signal_name(int sig) {
  static char buf[16];
  const char *abbrev = sigabbrev_np(sig);
  if (!abbrev) { snprintf(buf, sizeof buf, "SIG%d", sig); return buf; }
  snprintf(buf, sizeof buf, "SIG%s", abbrev);
  return buf;
}

static __attribute__((noreturn)) void init_main(const char *mountdir, int go_fd, int ready_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  char c;
  if (read(go_fd, &c, 1) != 1) _exit(EXIT_REPORTED_ERROR); /* outer died before release */
  close(go_fd);
  prctl(PR_SET_NAME, "tsbuild-init");
  int none = strcmp(req.network, "none") == 0;
  if (unshare(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | (none ? CLONE_NEWNET : 0)) != 0)
    SETUP("creating namespaces");
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) SETUP("making / private");
  if (none) bring_up_loopback();
  if (sethostname(req.hostname, strlen(req.hostname)) != 0) SETUP("sethostname");

  /* Scratch tmpfs (private to this namespace) for the root mountpoint and generated files. */
  if (mount("tmpfs", mountdir, "tmpfs", MS_NOSUID | MS_NODEV, "mode=755,size=1024k") != 0)
    SETUP("mounting scratch tmpfs");
  char rootpath[PATH_MAX], etcfile[PATH_MAX];
  snprintf(rootpath, sizeof rootpath, "%s/root", mountdir);
  if (mkdir(rootpath, 0755) != 0) SETUP("mkdir %s", rootpath);
  write_etc_files(mountdir);
  mount_root(rootpath);
  int rootfd = open(rootpath, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (rootfd < 0) SETUP("opening root");

  mount_in_root(rootfd, "proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, 'd');
  mount_dev(rootfd);
  mount_sys(rootfd);
  snprintf(etcfile, sizeof etcfile, "%s/hosts", mountdir);
  mount_in_root(rootfd, etcfile, "/etc/hosts", NULL, MS_BIND | MS_RDONLY, NULL, 'f');
  snprintf(etcfile, sizeof etcfile, "%s/resolv.conf", mountdir);
  mount_in_root(rootfd, etcfile, "/etc/resolv.conf", NULL, MS_BIND | MS_RDONLY, NULL, 'f');

  for (size_t i = 1; i < req.nmounts; i++) {
    const struct mnt *m = &req.mounts[i];
    char data[4096];
    unsigned long flags = parse_options(m, data, sizeof data);
    char kind = 'd';
    if (strcmp(m->type, "bind") == 0) {
      struct stat st;
      if (stat(m->source, &st) != 0) SETUP("bind source %s", m->source);
      if (!S_ISDIR(st.st_mode)) kind = 'f';
      flags |= MS_BIND;
    }
    if (m->cwd && chdir(m->cwd) != 0) SETUP("chdir to %s for mount %s", m->cwd, m->target);
    mount_in_root(rootfd, m->source, m->target, strcmp(m->type, "bind") == 0 ? NULL : m->type,
                  flags, data[0] ? data : NULL, kind);
    if (chdir("/") != 0) SETUP("chdir /");
  }

  if (fchdir(rootfd) != 0) SETUP("chdir to new root");
  if (syscall(SYS_pivot_root, ".", ".") != 0) SETUP("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) SETUP("unmounting the old root");
  if (chdir("/") != 0) SETUP("chdir /");
  close(rootfd);
  c = 'r'; /* the outer may now remove the mountpoint directory */
  if (write(ready_fd, &c, 1) != 1) _exit(EXIT_REPORTED_ERROR);
  close(ready_fd);

  mask_paths();
  struct user u;
  resolve_user(&u);
  mkdir_p(req.cwd);

  int execpipe[2];
  if (pipe2(execpipe, O_CLOEXEC) != 0) SETUP("pipe");
  sigset_t all;
  sigfillset(&all);
  sigprocmask(SIG_BLOCK, &all, NULL);
  pid_t pid = fork();
  if (pid < 0) SETUP("fork");
  if (pid == 0) {
    close(execpipe[0]);
    start_failed_fd = execpipe[1]; /* closed by a successful exec (O_CLOEXEC) */
    run_command(&u);
  }
  close(execpipe[1]);
  cgroup_close_procs();
  ssize_t r;
  while ((r = read(execpipe[0], &c, 1)) < 0 && errno == EINTR) {}
  int start_failed = r == 1; /* the command already reported why */
  if (!start_failed) emit("started", NULL, NULL, NULL);
  for (;;) { /* reap every orphan; end when the command ends */
    int status;
    pid_t w = waitpid(-1, &status, 0);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) SETUP("waitpid");
    if (w != pid) continue;
    kill(-1, SIGKILL); /* whatever the command left running, before the stubs go */
    while (waitpid(-1, NULL, 0) > 0 || errno == EINTR) {}
    remove_stubs();
    if (start_failed) _exit(EXIT_REPORTED_ERROR);
    char extra[64];
    if (WIFSIGNALED(status)) snprintf(extra, sizeof extra, "\"signal\":\"%s\"", signal_name(WTERMSIG(status)));
    else snprintf(extra, sizeof extra, "\"exitCode\":%d", WEXITSTATUS(status));
    emit("exit", NULL, NULL, extra);
    _exit(EXIT_REPORTED);
  }
}

/* ---------- outer ---------- */

/* Runs the parsed request: cgroup, PID namespace, init; returns the helper's exit status. */
static int outer_main(void) {
  if (strcmp(req.network, "default") != 0 && strcmp(req.network, "none") != 0 && strcmp(req.network, "host") != 0)
    fail("exec/helper-protocol", 0, "unknown network mode %s", req.network);

  rootless = geteuid() != 0;
  if (!rootless) {
    cgroup_setup();
    cgroup_open_procs();
  }
  else if (req.memory > 0 || req.cpus > 0) warnf("resource limits ignored: cgroups need root");
  /* On /dev/shm (tmpfs) when there is one: a mkdir and rmdir on a journaled /tmp cost up to
   * 0.5 ms each per RUN while other builds write to that disk. */
  char mountdir[] = "/dev/shm/tsbuild-sandbox-XXXXXX";
  struct statfs shm;
  if (statfs("/dev/shm", &shm) != 0 || shm.f_type != TMPFS_MAGIC || !mkdtemp(mountdir)) {
    strcpy(mountdir, "/tmp/tsbuild-sandbox-XXXXXX");
    if (!mkdtemp(mountdir)) SETUP("creating a mountpoint directory in /tmp");
  }
  if (rootless) enter_user_namespace();
  if (unshare(CLONE_NEWPID) != 0) { int e = errno; rmdir(mountdir); errno = e; SETUP("creating the PID namespace"); }

  int go[2], ready[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) SETUP("pipe");
  pid_t init = fork();
  if (init < 0) { rmdir(mountdir); SETUP("fork"); }
  if (init == 0) {
    close(go[1]);
    close(ready[0]);
    init_main(mountdir, go[0], ready[1]);
  }
  close(go[0]);
  close(ready[1]);
  cgroup_close_procs();
  char c = 'g';
  if (write(go[1], &c, 1) != 1) SETUP("releasing init");
  close(go[1]);
  if (read(ready[0], &c, 1) == 1) rmdir(mountdir); /* gone from the host as soon as possible */
  close(ready[0]);

  int status;
  while (waitpid(init, &status, 0) < 0)
    if (errno != EINTR) SETUP("waitpid");
  rmdir(mountdir);
  long oom_kills = cgroup_oom_kills();
  cgroup_remove();
  if (oom_kills > 0) {
    char extra[64];
    snprintf(extra, sizeof extra, "\"kills\":%ld", oom_kills);
    emit("oom", NULL, NULL, extra);
  }
  if (WIFEXITED(status) && (WEXITSTATUS(status) == EXIT_REPORTED || WEXITSTATUS(status) == EXIT_REPORTED_ERROR))
    return WEXITSTATUS(status);
  char msg[128];
  if (WIFSIGNALED(status)) snprintf(msg, sizeof msg, "sandbox init was killed by %s", signal_name(WTERMSIG(status)));
  else snprintf(msg, sizeof msg, "sandbox init exited with status %d", WEXITSTATUS(status));
  emit("error", "exec/helper-setup", msg, "\"errno\":0");
  return EXIT_REPORTED_ERROR;
}

/* ---------- server mode: one helper process, many runs ---------- */

/*
 * After a "TSBS" header on fd 3, the helper serves runs until fd 3 ends: input frames are
 * `u8 op, u32 LE run id, u32 LE length, payload` (op 'R': payload is a whole "TSBR" request
 * frame; op 'K': SIGKILL that run). For each run it forks an outer (as in one-shot mode, with
 * its own stdout/stderr/event pipes) and relays on fd 4 frames `u8 kind, u32 LE run id,
 * u32 LE length, payload`: 1 stdout bytes, 2 stderr bytes, 3 event lines, 4 done (payload: u32
 * LE wait status of the outer, sent once it exited and all its pipes are closed).
 * This saves tsbuild a fork+exec of the helper per RUN.
 */
#define MAX_RUNS 128
enum { OUT_STDOUT = 1, OUT_STDERR = 2, OUT_EVENTS = 3, OUT_DONE = 4 };
struct run { uint32_t id; pid_t pid; int fd[3]; int status; int exited; };
static struct run runs[MAX_RUNS];
static size_t nruns;

static void put32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); p[2] = (unsigned char)(v >> 16); p[3] = (unsigned char)(v >> 24);
}

/* Writes one output frame to fd 4; the server ends if tsbuild stopped reading. */
static void put_frame(int kind, uint32_t id, const void *data, uint32_t len) {
  static unsigned char buf[9 + 65536];
  buf[0] = (unsigned char)kind;
  put32(buf + 1, id);
  put32(buf + 5, len);
  memcpy(buf + 9, data, len);
  size_t n = 9 + len, off = 0;
  while (off < n) {
    ssize_t w = write(EVENT_FD, buf + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) _exit(3);
    off += (size_t)w;
  }
}

/* Reads exactly n bytes; returns 0 at a clean end of input before the first byte, else exits. */
static int read_frame_part(void *p, size_t n) {
  size_t got = 0;
  while (got < n) {
    ssize_t r = read(REQUEST_FD, (char *)p + got, n - got);
    if (r < 0 && errno == EINTR) continue;
    if (r == 0 && got == 0) return 0;
    if (r <= 0) { fprintf(stderr, "tsbuild-helper: truncated frame on fd 3\n"); _exit(2); }
    got += (size_t)r;
  }
  return 1;
}

static void run_failed(uint32_t id, const char *what) {
  char line[256];
  int n = snprintf(line, sizeof line, "{\"kind\":\"error\",\"code\":\"exec/helper-setup\",\"message\":\"%s: %s\",\"errno\":%d}\n",
                   what, strerror(errno), errno);
  put_frame(OUT_EVENTS, id, line, (uint32_t)n);
  unsigned char st[4];
  put32(st, 1u << 8);
  put_frame(OUT_DONE, id, st, 4);
}

static void start_run(uint32_t id, const unsigned char *frame, uint32_t len) {
  if (nruns == MAX_RUNS) { errno = EAGAIN; return run_failed(id, "too many concurrent runs"); }
  int out[2], err[2], ev[2];
  if (pipe2(out, O_CLOEXEC) != 0) return run_failed(id, "pipe");
  if (pipe2(err, O_CLOEXEC) != 0) { close(out[0]); close(out[1]); return run_failed(id, "pipe"); }
  if (pipe2(ev, O_CLOEXEC) != 0) { close(out[0]); close(out[1]); close(err[0]); close(err[1]); return run_failed(id, "pipe"); }
  pid_t server = getpid();
  pid_t pid = fork();
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != server) _exit(EXIT_REPORTED_ERROR);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out[1], 1) < 0 || dup2(err[1], 2) < 0 || dup2(ev[1], EVENT_FD) < 0) _exit(EXIT_REPORTED_ERROR);
    fcntl(EVENT_FD, F_SETFD, FD_CLOEXEC);
    close(REQUEST_FD);
    /* Other runs' pipes must not stay open in this sandbox's processes. */
#ifdef SYS_close_range
    if (syscall(SYS_close_range, EVENT_FD + 1, ~0U, 0) != 0)
#endif
      for (int fd = EVENT_FD + 1; fd < 1024; fd++) close(fd);
    if (len < 12) fail("exec/helper-protocol", 0, "request truncated");
    if (check_header(frame, "TSBR") != len - 12) fail("exec/helper-protocol", 0, "request length does not match its frame");
    parse_request(frame + 12, len - 12);
    _exit(outer_main());
  }
  close(out[1]); close(err[1]); close(ev[1]);
  if (pid < 0) { close(out[0]); close(err[0]); close(ev[0]); return run_failed(id, "fork"); }
  runs[nruns++] = (struct run){ .id = id, .pid = pid, .fd = { out[0], err[0], ev[0] } };
}

static int serve(void) {
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, NULL);
  int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
  if (sfd < 0) { perror("tsbuild-helper: signalfd"); return 2; }
  static unsigned char buf[65536];
  int input_open = 1;
  for (;;) {
    if (!input_open && nruns == 0) return 0;
    struct pollfd p[2 + MAX_RUNS * 3];
    size_t owner[2 + MAX_RUNS * 3];
    nfds_t n = 0;
    p[n++] = (struct pollfd){ .fd = sfd, .events = POLLIN };
    if (input_open) p[n++] = (struct pollfd){ .fd = REQUEST_FD, .events = POLLIN };
    for (size_t r = 0; r < nruns; r++)
      for (int k = 0; k < 3; k++)
        if (runs[r].fd[k] >= 0) { owner[n] = r * 3 + (size_t)k; p[n++] = (struct pollfd){ .fd = runs[r].fd[k], .events = POLLIN }; }
    if (poll(p, n, -1) < 0) {
      if (errno == EINTR) continue;
      perror("tsbuild-helper: poll");
      return 2;
    }
    if (p[0].revents) {
      struct signalfd_siginfo si;
      while (read(sfd, &si, sizeof si) > 0) {}
      int status;
      pid_t w;
      while ((w = waitpid(-1, &status, WNOHANG)) > 0)
        for (size_t r = 0; r < nruns; r++)
          if (runs[r].pid == w) { runs[r].exited = 1; runs[r].status = status; }
    }
    for (nfds_t i = input_open ? 2 : 1; i < n; i++) {
      if (!p[i].revents) continue;
      struct run *r = &runs[owner[i] / 3];
      int k = (int)(owner[i] % 3);
      ssize_t got = read(p[i].fd, buf, sizeof buf);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (got > 0) { put_frame(k + 1, r->id, buf, (uint32_t)got); continue; }
      close(r->fd[k]);
      r->fd[k] = -1;
    }
    if (input_open && p[1].revents) {
      unsigned char hdr[9];
      if (!read_frame_part(hdr, sizeof hdr)) {
        input_open = 0;
      } else {
        uint32_t id = le32(hdr + 1), len = le32(hdr + 5);
        if (len > MAX_REQUEST + 12) { fprintf(stderr, "tsbuild-helper: frame too large\n"); return 2; }
        unsigned char *payload = malloc(len ? len : 1);
        if (!payload) abort();
        read_frame_part(payload, len);
        if (hdr[0] == 'R') start_run(id, payload, len);
        else if (hdr[0] == 'K') {
          for (size_t r = 0; r < nruns; r++)
            if (runs[r].id == id && !runs[r].exited) kill(runs[r].pid, SIGKILL);
        } else { fprintf(stderr, "tsbuild-helper: unknown op %u on fd 3\n", hdr[0]); return 2; }
        free(payload);
      }
    }
    for (size_t r = 0; r < nruns;) {
      struct run *x = &runs[r];
      if (!x->exited || x->fd[0] >= 0 || x->fd[1] >= 0 || x->fd[2] >= 0) { r++; continue; }
      unsigned char st[4];
      put32(st, (uint32_t)x->status);
      put_frame(OUT_DONE, x->id, st, 4);
      runs[r] = runs[--nruns];
    }
  }
}

int main(void) {
  pid_t parent = getppid();
  if (fcntl(EVENT_FD, F_SETFD, FD_CLOEXEC) != 0 || fcntl(REQUEST_FD, F_GETFD) < 0) {
    fprintf(stderr, "tsbuild-helper: expects the request on fd 3 and an event pipe on fd 4 (see native/README.md)\n");
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent) _exit(EXIT_REPORTED_ERROR); /* tsbuild already gone */
  fcntl(REQUEST_FD, F_SETFD, FD_CLOEXEC);
  unsigned char hdr[12];
  readall(REQUEST_FD, hdr, sizeof hdr);
  if (memcmp(hdr, "TSBS", 4) == 0) {
    check_header(hdr, "TSBS");
    return serve();
  }
  uint32_t len = check_header(hdr, "TSBR");
  unsigned char *body = malloc(len + 1);
  if (!body) abort();
  readall(REQUEST_FD, body, len);
  close(REQUEST_FD);
  parse_request(body, len);
  free(body);
  return outer_main();
}
