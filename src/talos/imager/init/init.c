/*
 * The initramfs init of a talos-py image (PID 1 until it execs machined).
 *
 * It does only what the kernel cannot do alone, then gets out of the way:
 *   1. mounts devtmpfs on /dev, proc on /proc and sysfs on /sys;
 *   2. loads the kernel modules listed in /modules.order (dependencies first, resolved at
 *      build time from modules.dep by the imager) with finit_module(2): no modprobe;
 *   3. attaches /rootfs.sqsh to a loop device and mounts it read-only at /newroot;
 *   4. moves /dev, /proc and /sys into it, makes it the root (MS_MOVE + chroot, as
 *      switch_root does: an initramfs cannot be pivot_root'ed away), and
 *   5. execs machined: /usr/bin/python3 -m talos machined --metal.
 *
 * On any failure it says what failed on the console and powers the machine off (a PID 1
 * that exits would panic the kernel and hide the message).
 *
 * Built by the imager with the build machine's `gcc -static` at image build time.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define SQUASHFS "/rootfs.sqsh"
#define MODULES_ORDER "/modules.order"
#define MODULES_DIR "/lib/modules/"
#define NEWROOT "/newroot"

static void say(const char *msg, const char *arg) {
    dprintf(2, "talos-init: %s%s%s\n", msg, arg ? " " : "", arg ? arg : "");
}

static void fail(const char *what, const char *arg) {
    dprintf(2, "talos-init: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "",
            strerror(errno));
    sync();
    sleep(2);
    reboot(RB_POWER_OFF);
    for (;;) pause();
}

static void mount_or_fail(const char *src, const char *target, const char *type,
                          unsigned long flags, const char *data) {
    mkdir(target, 0755);
    if (mount(src, target, type, flags, data) != 0) fail("cannot mount", target);
}

static void load_modules(void) {
    char buf[8192];
    int fd = open(MODULES_ORDER, O_RDONLY | O_CLOEXEC);
    if (fd < 0) fail("cannot open", MODULES_ORDER);
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n < 0) fail("cannot read", MODULES_ORDER);
    buf[n] = '\0';
    char *save = NULL;
    for (char *name = strtok_r(buf, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
        char path[512];
        snprintf(path, sizeof(path), "%s%s", MODULES_DIR, name);
        int mfd = open(path, O_RDONLY | O_CLOEXEC);
        if (mfd < 0) fail("cannot open module", path);
        if (syscall(SYS_finit_module, mfd, "", 0) != 0 && errno != EEXIST) {
            /* ENODEV: the module's init found nothing to drive (efivarfs on a machine
             * booted without UEFI): not needed here, not fatal */
            if (errno != ENODEV) fail("cannot load module", name);
            say("module not used on this machine:", name);
        }
        close(mfd);
        unlink(path); /* the initramfs is RAM: free what is no longer needed */
    }
}

static void mount_squashfs(void) {
    int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
    if (ctl < 0) fail("cannot open", "/dev/loop-control");
    int nr = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (nr < 0) fail("no free loop device", NULL);
    close(ctl);
    char loop[64];
    snprintf(loop, sizeof(loop), "/dev/loop%d", nr);
    int lfd = open(loop, O_RDWR | O_CLOEXEC);
    if (lfd < 0) fail("cannot open", loop);
    int ffd = open(SQUASHFS, O_RDONLY | O_CLOEXEC);
    if (ffd < 0) fail("cannot open", SQUASHFS);
    if (ioctl(lfd, LOOP_SET_FD, ffd) != 0) fail("cannot attach", SQUASHFS);
    struct loop_info64 info;
    memset(&info, 0, sizeof(info));
    info.lo_flags = LO_FLAGS_READ_ONLY | LO_FLAGS_AUTOCLEAR;
    strncpy((char *)info.lo_file_name, SQUASHFS, LO_NAME_SIZE - 1);
    if (ioctl(lfd, LOOP_SET_STATUS64, &info) != 0) fail("cannot configure", loop);
    mount_or_fail(loop, NEWROOT, "squashfs", MS_RDONLY | MS_NODEV, NULL);
    close(ffd);
    close(lfd);
    unlink(SQUASHFS); /* the loop device keeps it alive; nothing else may use it */
}

static void move_into(const char *from, const char *to) {
    if (mount(from, to, NULL, MS_MOVE, NULL) != 0) fail("cannot move mount", from);
}

int main(void) {
    mount_or_fail("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
    mount_or_fail("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    mount_or_fail("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
    say("loading kernel modules", NULL);
    load_modules();
    say("mounting the root filesystem", SQUASHFS);
    mount_squashfs();
    move_into("/dev", NEWROOT "/dev");
    move_into("/proc", NEWROOT "/proc");
    move_into("/sys", NEWROOT "/sys");
    if (chdir(NEWROOT) != 0) fail("cannot enter", NEWROOT);
    if (mount(".", "/", NULL, MS_MOVE, NULL) != 0) fail("cannot move the new root", NULL);
    if (chroot(".") != 0) fail("cannot chroot into the new root", NULL);
    if (chdir("/") != 0) fail("cannot enter the new root", NULL);
    say("starting machined", NULL);
    char *const argv[] = {"/usr/bin/python3", "-m", "talos", "machined", "--metal", NULL};
    char *const envp[] = {"PATH=/usr/bin:/usr/sbin", "HOME=/", "PYTHONUTF8=1",
                          "PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1", NULL};
    execve(argv[0], argv, envp);
    fail("cannot exec", argv[0]);
    return 1;
}
