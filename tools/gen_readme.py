"""Write each addon's README.rst from its readme/*.md fragments (oca-gen-addon-readme is not on PyPI).

Usage: python tools/gen_readme.py [--check]   (--check: exit 1 when a README.rst is out of date)
"""

import ast
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ADDONS = ["chatbot_base", "chatbot_telegram", "chatbot_operator", "chatbot_client", "chatbot_livechat"]
SECTIONS = [("DESCRIPTION.md", None), ("CONFIGURE.md", "Configuration"), ("USAGE.md", "Usage")]


def render(addon):
    with open(os.path.join(ROOT, addon, "__manifest__.py"), encoding="utf-8") as handle:
        manifest = ast.literal_eval(handle.read())
    title = manifest["name"]
    lines = ["=" * len(title), title, "=" * len(title), "", f"*{manifest['summary']}*", ""]
    for fragment, heading in SECTIONS:
        path = os.path.join(ROOT, addon, "readme", fragment)
        if not os.path.isfile(path):
            continue
        if heading:
            lines += [heading, "=" * len(heading), ""]
        with open(path, encoding="utf-8") as handle:
            lines += [handle.read().strip().replace("`", "``"), ""]
    lines += [
        "Credits",
        "=======",
        "",
        f"Authors: {manifest['author']}. License: {manifest['license']}. Version {manifest['version']}.",
        "",
    ]
    return "\n".join(lines)


def main():
    check = "--check" in sys.argv
    stale = []
    for addon in ADDONS:
        path = os.path.join(ROOT, addon, "README.rst")
        text = render(addon)
        current = None
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        if current != text:
            stale.append(addon)
            if not check:
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    if check and stale:
        print(f"README.rst out of date in {', '.join(stale)}: run python tools/gen_readme.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
