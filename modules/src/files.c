/* files: lists, reads, writes and removes files in the preopened directories. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "webmk.h"

WEBMK_MANIFEST("{\"name\":\"files\",\"version\":\"1.0.0\","
               "\"description\":\"Lists, reads, writes and removes files in the preopened directories\"}");

static const char usage[] =
    "usage: files ls DIR\n"
    "       files cat PATH\n"
    "       files write PATH TEXT...\n"
    "       files append PATH TEXT...\n"
    "       files rm PATH\n"
    "       files mkdir PATH\n";

static char buf[65536];

static int fail(const char *path) {
  fprintf(stderr, "files: %s: %s\n", path, strerror(errno));
  return 1;
}

static int skip_dot(const struct dirent *d) {
  return strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
}

/* Prints the entries of dir sorted by name, directories with a trailing '/'. */
static int cmd_ls(const char *dir) {
  struct dirent **list;
  int n = scandir(dir, &list, skip_dot, alphasort);
  if (n < 0)
    return fail(dir);
  for (int i = 0; i < n; i++) {
    printf("%s%s\n", list[i]->d_name, list[i]->d_type == DT_DIR ? "/" : "");
    free(list[i]);
  }
  free(list);
  return 0;
}

static int cmd_cat(const char *path) {
  int fd = open(path, O_RDONLY);
  if (fd < 0)
    return fail(path);
  struct stat st;
  if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
    close(fd);
    errno = EISDIR; /* reading a directory fd would report a vaguer EBADF */
    return fail(path);
  }
  ssize_t r;
  while ((r = read(fd, buf, sizeof buf)) > 0) {
    if (fwrite(buf, 1, (size_t)r, stdout) != (size_t)r) {
      close(fd);
      return fail("stdout");
    }
  }
  int err = errno;
  close(fd);
  if (r < 0) {
    errno = err;
    return fail(path);
  }
  return 0;
}

/* Writes the words joined by spaces plus a newline, like `echo TEXT > PATH`. */
static int cmd_write(const char *path, char **words, int n, int append) {
  FILE *f = fopen(path, append ? "a" : "w");
  if (!f)
    return fail(path);
  for (int i = 0; i < n; i++)
    fprintf(f, "%s%s", i ? " " : "", words[i]);
  fputc('\n', f);
  if (fclose(f) != 0)
    return fail(path);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fputs(usage, stdout);
    return 0;
  }
  const char *cmd = argv[1];
  const char *path = argc > 2 ? argv[2] : NULL;

  if (strcmp(cmd, "ls") == 0 && argc == 3)
    return cmd_ls(path);
  if (strcmp(cmd, "cat") == 0 && argc == 3)
    return cmd_cat(path);
  if (strcmp(cmd, "write") == 0 && argc >= 4)
    return cmd_write(path, argv + 3, argc - 3, 0);
  if (strcmp(cmd, "append") == 0 && argc >= 4)
    return cmd_write(path, argv + 3, argc - 3, 1);
  if (strcmp(cmd, "rm") == 0 && argc == 3)
    return remove(path) == 0 ? 0 : fail(path);
  if (strcmp(cmd, "mkdir") == 0 && argc == 3)
    return mkdir(path, 0777) == 0 ? 0 : fail(path);

  fputs(usage, stderr);
  return 2;
}
