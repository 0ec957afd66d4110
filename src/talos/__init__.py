"""An API-driven operating-system layer for Kubernetes nodes, modelled on Talos Linux."""
