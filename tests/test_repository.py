"""Repository checks: lint, manifests, test wiring, and what must never be committed."""

import ast
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import ADDONS, ROOT

BIN = os.path.dirname(sys.executable)


def tracked_files():
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return out.splitlines()


def run_tool(*cmd):
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    return result.returncode, (result.stdout + result.stderr)[-6000:]


def test_ruff_format():
    code, out = run_tool(os.path.join(BIN, "ruff"), "format", "--check", ".")
    assert code == 0, out


def test_ruff_check():
    code, out = run_tool(os.path.join(BIN, "ruff"), "check", ".")
    assert code == 0, out


def test_pylint_odoo():
    code, out = run_tool(sys.executable, "-m", "pylint", "--rcfile=setup.cfg", *ADDONS)
    assert code == 0, out


@pytest.mark.parametrize("addon", ADDONS)
def test_manifest(addon):
    with open(os.path.join(ROOT, addon, "__manifest__.py"), encoding="utf-8") as handle:
        manifest = ast.literal_eval(handle.read())
    assert re.fullmatch(r"18\.0\.\d+\.\d+\.\d+", manifest["version"])
    assert manifest["license"] == "LGPL-3"
    assert "description" not in manifest, "the description lives in readme/DESCRIPTION.md"
    assert manifest["installable"] is True
    for path in manifest.get("data", []) + manifest.get("demo", []):
        assert os.path.isfile(os.path.join(ROOT, addon, path)), f"{addon}: missing {path}"
    assert os.path.isfile(os.path.join(ROOT, addon, "readme", "DESCRIPTION.md"))
    assert os.path.isfile(os.path.join(ROOT, addon, "static", "description", "icon.png"))


@pytest.mark.parametrize("addon", ADDONS)
def test_every_test_file_is_imported(addon):
    """Odoo runs only the test modules imported by tests/__init__.py."""
    folder = os.path.join(ROOT, addon, "tests")
    if not os.path.isdir(folder):
        return
    test_files = {
        name[:-3] for name in os.listdir(folder) if name.startswith("test_") and name.endswith(".py")
    }
    with open(os.path.join(folder, "__init__.py"), encoding="utf-8") as handle:
        imported = set(re.findall(r"\btest_\w+", handle.read()))
    assert test_files <= imported, f"not imported: {sorted(test_files - imported)}"


def _depends(addon):
    with open(os.path.join(ROOT, addon, "__manifest__.py"), encoding="utf-8") as handle:
        return ast.literal_eval(handle.read()).get("depends", [])


def _our_dependencies(addon):
    """The suite's addons that `addon` depends on, directly or not, itself included."""
    seen, todo = set(), [addon]
    while todo:
        name = todo.pop()
        if name in seen or name not in ADDONS:
            continue
        seen.add(name)
        todo.extend(_depends(name))
    return seen


@pytest.mark.parametrize("addon", ADDONS)
def test_an_addon_imports_only_the_addons_it_depends_on(addon):
    """Code and tests of an addon import only the suite's addons it depends on: its tests run (and pass)
    with just those installed."""
    allowed = _our_dependencies(addon)
    wrong = []
    for folder, _dirs, files in os.walk(os.path.join(ROOT, addon)):
        for name in (n for n in files if n.endswith(".py")):
            path = os.path.join(folder, name)
            with open(path, encoding="utf-8") as handle:
                source = handle.read()
            for other in re.findall(r"odoo\.addons\.(chatbot_\w+)", source):
                if other not in allowed:
                    wrong.append(f"{os.path.relpath(path, ROOT)} imports {other}")
    assert not wrong, wrong


def test_odoo_source_is_never_committed():
    files = tracked_files()
    assert not [f for f in files if re.search(r"(^|/)odoo/(release|http|fields)\.py$|(^|/)odoo-bin$", f)]
    assert not [f for f in files if f.startswith((".venv/", ".pgdata/", ".state/"))]


def test_no_secret_looking_token_is_committed():
    # the pattern of the before-stop hook: any run of 35 token characters, even inside a longer one
    pattern = re.compile(r"[0-9]{8,10}:[A-Za-z0-9_-]{35}")
    for path in tracked_files():
        if path.endswith((".png", ".md")):
            continue
        with open(os.path.join(ROOT, path), encoding="utf-8", errors="ignore") as handle:
            assert not pattern.search(handle.read()), f"{path} holds something like a Telegram bot token"


def test_model_names_do_not_extend_im_livechat():
    """im_livechat owns chatbot.script, chatbot.script.step, chatbot.script.answer and chatbot.message."""
    taken = {"chatbot.script", "chatbot.script.step", "chatbot.script.answer", "chatbot.message"}
    for addon in ADDONS:
        for folder, _dirs, files in os.walk(os.path.join(ROOT, addon)):
            for name in files:
                if name.endswith(".py"):
                    with open(os.path.join(folder, name), encoding="utf-8") as handle:
                        names = set(re.findall(r"_name = \"([\w.]+)\"", handle.read()))
                    assert not names & taken, f"{folder}/{name} reuses {names & taken}"


def test_readme_gives_the_two_commands():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        readme = handle.read()
    assert "./bots up" in readme and "./bots test" in readme
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        assert "./bots test" in handle.read()


def test_addon_readmes_are_generated_from_their_fragments():
    code, out = run_tool(sys.executable, os.path.join(ROOT, "tools", "gen_readme.py"), "--check")
    assert code == 0, out


def demo_users():
    """(login, password) of the users in the demo data."""
    users = []
    for addon in ADDONS:
        folder = os.path.join(ROOT, addon, "demo")
        for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else ():
            for record in ET.parse(os.path.join(folder, name)).iter("record"):
                if record.get("model") == "res.users":
                    fields = {field.get("name"): field.text for field in record.iter("field")}
                    users.append((fields["login"], fields["password"]))
    return users


def test_demo_logins_are_ours_and_the_readme_tells_them():
    """Odoo's own tests create users such as `operator` or `manager`: ours must not collide with them."""
    users = demo_users()
    assert users and all(login.startswith("bots_") for login, _password in users), users
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        table = set(re.findall(r"^\| `([^`]+)` \| `([^`]+)` \|", handle.read(), re.M))
    assert set(users) | {("admin", "admin")} == table
    with open(os.path.join(ROOT, "tools", "devenv.py"), encoding="utf-8") as handle:
        printed = set(re.findall(r'^    \("(\w+)", "(\w+)", "', handle.read(), re.M))
    assert printed == table


def test_ci_runs_the_python_the_readme_names():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        named = re.findall(r"CI runs (3\.\d+)", handle.read())
    with open(os.path.join(ROOT, ".ci", "run"), encoding="utf-8") as handle:
        used = re.findall(r"^export BOTS_PYTHON=python(3\.\d+)$", handle.read(), re.M)
    assert named and used == [named[0]] and set(named) == set(used), (named, used)
