"""Upgrades and rollback on the node: where the next boot's image lives (a "boot target"),
how an installer image's assets reach it, verified, and how the node switches to it.

- `target`: the boot-target interface (`BootTarget`) every platform implements, and the
  errors an upgrade fails with before anything on the node changes.
- `sandbox`: the sandbox node's target, two squashfs slots under /boot
  (talos.machinery.bootslots).
- the metal/VM target (ESP with systemd-boot UKI entries) lives in talos.machined.install.
"""
