/*
 * tsbuild-fsutil: the few filesystem calls Node has no API for (extended attributes on
 * symlinks and files, device nodes, fifos). One process serves a whole layer: tsbuild starts it
 * once, writes commands to stdin and reads replies from stdout, so the cost is one spawn per
 * layer, not one per file.
 *
 * Protocol. Every field, in both directions, is a byte string terminated by NUL (paths may hold
 * any byte except NUL, including newlines). A command is its name followed by a fixed number of
 * argument fields:
 *
 *   lxattrs ROOT                 walk ROOT with lstat (never following symlinks, staying on the
 *                                tree) and report every extended attribute of every entry
 *   lgetxattrs PATH              report the extended attributes of PATH alone
 *   setxattr PATH NAME HEXVALUE  lsetxattr(PATH, NAME, value)
 *   mknod PATH MODE MAJOR MINOR  mknod(PATH, MODE, makedev(MAJOR, MINOR)); MODE is octal and
 *                                includes the file type bits (S_IFCHR, S_IFBLK, S_IFIFO)
 *   mknod-whiteout PATH          an overlayfs whiteout: a character device 0/0, mode 0
 *
 * Each attribute found is reported as four fields: "x", PATH (relative to ROOT, "." for ROOT
 * itself, for lxattrs), NAME, HEXVALUE. Every command then ends with "ok", or with "err" and a
 * message. The program exits 0 at end of input; it exits 2 on an unknown command, because the
 * stream can no longer be parsed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static char *read_field(void) {
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getdelim(&line, &cap, '\0', stdin);
  if (n <= 0) {
    free(line);
    return NULL;
  }
  if (line[n - 1] != '\0') { /* last field without a terminator */
    free(line);
    return NULL;
  }
  return line;
}

static void put(const char *s) { fwrite(s, 1, strlen(s) + 1, stdout); }

static void put_err(const char *what, const char *path) {
  char msg[4096];
  snprintf(msg, sizeof msg, "%s %s: %s", what, path, strerror(errno));
  put("err");
  put(msg);
}

static void put_hex(const unsigned char *v, ssize_t n) {
  static const char digits[] = "0123456789abcdef";
  for (ssize_t i = 0; i < n; i++) {
    putchar(digits[v[i] >> 4]);
    putchar(digits[v[i] & 15]);
  }
  putchar('\0');
}

/* Reports the xattrs of one path; returns -1 (errno set) on a failure other than "no xattrs". */
static int report_xattrs(const char *path, const char *shown) {
  ssize_t len = llistxattr(path, NULL, 0);
  if (len < 0) return (errno == ENOTSUP || errno == ENODATA) ? 0 : -1;
  if (len == 0) return 0;
  char *names = malloc(len);
  if (!names) return -1;
  len = llistxattr(path, names, len);
  if (len < 0) {
    free(names);
    return -1;
  }
  for (char *name = names; name < names + len; name += strlen(name) + 1) {
    ssize_t vlen = lgetxattr(path, name, NULL, 0);
    if (vlen < 0) continue; /* removed meanwhile, or not readable in this namespace */
    unsigned char *val = malloc(vlen > 0 ? vlen : 1);
    if (!val) continue;
    vlen = lgetxattr(path, name, val, vlen);
    if (vlen >= 0) {
      put("x");
      put(shown);
      put(name);
      put_hex(val, vlen);
    }
    free(val);
  }
  free(names);
  return 0;
}

/* Depth-first walk; `path` is the real path, `rel` the path shown (relative to the root). */
static int walk(const char *path, const char *rel) {
  if (report_xattrs(path, rel) < 0) return -1;
  struct stat st;
  if (lstat(path, &st) < 0) return -1;
  if (!S_ISDIR(st.st_mode)) return 0;
  DIR *d = opendir(path);
  if (!d) return -1;
  struct dirent *e;
  int rc = 0;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
    char *child = NULL, *childRel = NULL;
    if (asprintf(&child, "%s/%s", path, e->d_name) < 0) { rc = -1; break; }
    int r = strcmp(rel, ".") == 0 ? asprintf(&childRel, "%s", e->d_name)
                                  : asprintf(&childRel, "%s/%s", rel, e->d_name);
    if (r < 0) { free(child); rc = -1; break; }
    rc = walk(child, childRel);
    free(child);
    free(childRel);
    if (rc < 0) break;
  }
  closedir(d);
  return rc;
}

static int unhex(const char *hex, unsigned char **out, size_t *outLen) {
  size_t n = strlen(hex);
  if (n % 2) return -1;
  unsigned char *buf = malloc(n / 2 + 1);
  if (!buf) return -1;
  for (size_t i = 0; i < n / 2; i++) {
    unsigned int b;
    if (sscanf(hex + 2 * i, "%2x", &b) != 1) { free(buf); return -1; }
    buf[i] = (unsigned char)b;
  }
  *out = buf;
  *outLen = n / 2;
  return 0;
}

int main(void) {
  char *cmd;
  while ((cmd = read_field()) != NULL) {
    if (strcmp(cmd, "lxattrs") == 0 || strcmp(cmd, "lgetxattrs") == 0) {
      char *root = read_field();
      if (!root) return 2;
      int rc = strcmp(cmd, "lxattrs") == 0 ? walk(root, ".") : report_xattrs(root, root);
      if (rc < 0) put_err(cmd, root); else put("ok");
      free(root);
    } else if (strcmp(cmd, "setxattr") == 0) {
      char *path = read_field(), *name = read_field(), *hex = read_field();
      if (!path || !name || !hex) return 2;
      unsigned char *val;
      size_t len;
      if (unhex(hex, &val, &len) < 0) {
        put("err");
        put("setxattr: value is not hex");
      } else {
        if (lsetxattr(path, name, val, len, 0) < 0) put_err("setxattr", path); else put("ok");
        free(val);
      }
      free(path); free(name); free(hex);
    } else if (strcmp(cmd, "mknod") == 0) {
      char *path = read_field(), *mode = read_field(), *maj = read_field(), *min = read_field();
      if (!path || !mode || !maj || !min) return 2;
      dev_t dev = makedev(strtoul(maj, NULL, 10), strtoul(min, NULL, 10));
      if (mknod(path, (mode_t)strtoul(mode, NULL, 8), dev) < 0) put_err("mknod", path); else put("ok");
      free(path); free(mode); free(maj); free(min);
    } else if (strcmp(cmd, "mknod-whiteout") == 0) {
      char *path = read_field();
      if (!path) return 2;
      if (mknod(path, S_IFCHR, makedev(0, 0)) < 0) put_err("mknod-whiteout", path); else put("ok");
      free(path);
    } else {
      fprintf(stderr, "tsbuild-fsutil: unknown command %s\n", cmd);
      return 2;
    }
    free(cmd);
    fflush(stdout);
  }
  return 0;
}
