"""Machine config: the v1alpha1 model, multi-document configs, validation and patches.

    cfg = load_config(text, source="controlplane.yaml")   # raises InvalidConfig
    warnings = cfg.validate("metal")                        # raises InvalidConfig
    patched = apply_patches(text, [load_patch_arg("@p.yaml")])
"""

from talos.machinery.config.config import Config, ConfigDocument, load_config
from talos.machinery.config.patch import apply_patches, load_patch_arg
from talos.machinery.config.v1alpha1 import V1Alpha1Config
from talos.machinery.config.validate import MODES

__all__ = ["MODES", "Config", "ConfigDocument", "V1Alpha1Config", "apply_patches",
           "load_config", "load_patch_arg"]
