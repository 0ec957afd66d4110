"""machined's controllers, one per file under `<namespace>/`; `register.register_all` wires
them. (This package imports nothing: importing one controller must not import them all.)"""
