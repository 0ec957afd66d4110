"""Extension services: YAML definitions in STATE/extensions (Talos's extension-service shape).

```yaml
name: hello                      # service id becomes ext-hello
container:
  entrypoint: /usr/bin/python3
  args: ["-c", "print('hi')"]
  environment: ["KEY=value"]
depends:
  - service: containerd
restart: always                  # always | never | untilSuccess
backoff: 5                       # seconds between restarts (our addition)
```
Tests register their own services this way too.
"""

from __future__ import annotations

import os
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from talos.machined.system.service import ProcessSpec, RestartPolicy, ServiceSpec
from talos.machinery.errors import InvalidConfig, Problem

RESTART = {"always": RestartPolicy.ALWAYS, "never": RestartPolicy.ONCE,
           "untilSuccess": RestartPolicy.UNTIL_SUCCESS}


def parse_extension(doc: Any, source: str) -> ServiceSpec:
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        raise InvalidConfig([Problem("", "expected a mapping")], source=source)
    name = doc.get("name")
    if not isinstance(name, str) or not name:
        problems.append(Problem("name", "required"))
    container = doc.get("container") or {}
    entry = container.get("entrypoint") if isinstance(container, dict) else None
    if not isinstance(entry, str) or not entry:
        problems.append(Problem("container.entrypoint", "required"))
    args = container.get("args") or [] if isinstance(container, dict) else []
    env_list = container.get("environment") or [] if isinstance(container, dict) else []
    env: list[tuple[str, str]] = []
    for i, item in enumerate(env_list):
        if not isinstance(item, str) or "=" not in item:
            problems.append(Problem(f"container.environment[{i}]", "expected KEY=value"))
        else:
            k, v = item.split("=", 1)
            env.append((k, v))
    restart = doc.get("restart", "always")
    if restart not in RESTART:
        problems.append(Problem("restart", f"expected one of {', '.join(RESTART)}, "
                                           f"got {restart!r}"))
    deps: list[str] = []
    for i, dep in enumerate(doc.get("depends") or []):
        if isinstance(dep, dict) and isinstance(dep.get("service"), str):
            deps.append(dep["service"])
        else:
            problems.append(Problem(f"depends[{i}]", "expected {service: <id>}"))
    backoff = doc.get("backoff", 5)
    if not isinstance(backoff, int | float) or backoff < 0:
        problems.append(Problem("backoff", "expected a non-negative number of seconds"))
    if problems:
        raise InvalidConfig(problems, source=source)
    return ServiceSpec(
        id=f"ext-{name}",
        process=ProcessSpec(argv=(str(entry), *(str(a) for a in args)), env=tuple(env)),
        depends_on=tuple(deps),
        restart=RESTART[restart],
        backoff=float(backoff),
    )


def load_extensions(directory: str) -> list[ServiceSpec]:
    if not os.path.isdir(directory):
        return []
    yaml = YAML(typ="safe")
    out = []
    for fn in sorted(os.listdir(directory)):
        if not fn.endswith((".yaml", ".yml")):
            continue
        path = os.path.join(directory, fn)
        try:
            with open(path, "rb") as f:
                doc = yaml.load(f)
        except YAMLError as exc:
            raise InvalidConfig([Problem("", f"not valid YAML: {exc}")], source=path) from None
        out.append(parse_extension(doc, path))
    return out
