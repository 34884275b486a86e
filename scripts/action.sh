#!/usr/bin/env bash
# The shell steps of action.yml, the dockfix GitHub Action.
#
#   action.sh install   DOCKFIX_PYTHON, DOCKFIX_VERSION -> output "dockfix" (the command)
#   action.sh run       DOCKFIX, DOCKFIX_MODE (check|sarif|fix), DOCKFIX_PATHS, DOCKFIX_ARGS,
#                       DOCKFIX_SARIF_FILE, DOCKFIX_PR_BODY_FILE
#                       -> outputs exit-code, changed, sarif-file / pr-body-file
#
# Inputs arrive as environment variables, never pasted into the code, so a
# path or an option can't run commands.  Outputs go to $GITHUB_OUTPUT.
set -euo pipefail

out() { echo "$1=$2" >> "${GITHUB_OUTPUT:-/dev/null}"; }

install() {
    local venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/dockfix-venv"
    "${DOCKFIX_PYTHON:-python3}" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        "${DOCKFIX_VERSION:-${GITHUB_ACTION_PATH:?}}"
    out dockfix "$venv/bin/dockfix"
}

run() {
    local dockfix="${DOCKFIX:-dockfix}" code=0 changed=false paths args
    set -f  # split the inputs on whitespace, but expand no globs
    # shellcheck disable=SC2206
    paths=(${DOCKFIX_PATHS:-.})
    # shellcheck disable=SC2206
    args=(${DOCKFIX_ARGS:-})
    set +f
    case "${DOCKFIX_MODE:-check}" in
    check)
        if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
            "$dockfix" --check --output-format markdown ${args[@]+"${args[@]}"} "${paths[@]}" \
                >> "$GITHUB_STEP_SUMMARY" 2>/dev/null || true
        fi
        "$dockfix" --check --output-format github ${args[@]+"${args[@]}"} "${paths[@]}" || code=$?
        [ "$code" = 1 ] && changed=true
        ;;
    sarif)
        local file="${DOCKFIX_SARIF_FILE:-dockfix.sarif}"
        mkdir -p "$(dirname "$file")"
        "$dockfix" --check --output-format sarif -o "$file" ${args[@]+"${args[@]}"} "${paths[@]}" || code=$?
        [ "$code" = 1 ] && changed=true
        out sarif-file "$file"
        ;;
    fix)
        local body="${DOCKFIX_PR_BODY_FILE:-}"
        [ -n "$body" ] || body="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/dockfix-pr-body.md"
        mkdir -p "$(dirname "$body")"
        "$dockfix" --check --quiet ${args[@]+"${args[@]}"} "${paths[@]}" > /dev/null || code=$?
        [ "$code" = 1 ] && changed=true
        if [ "$code" != 2 ]; then
            code=0
            "$dockfix" --write --output-format markdown -o "$body" ${args[@]+"${args[@]}"} "${paths[@]}" \
                || code=$?
        fi
        out pr-body-file "$body"
        ;;
    *)
        echo "::error title=dockfix::unknown mode '${DOCKFIX_MODE}' (expected check, sarif or fix)"
        code=2
        ;;
    esac
    out exit-code "$code"
    out changed "$changed"
    # check fails on findings; sarif and fix only on errors
    if [ "$code" = 2 ] || { [ "$code" = 1 ] && [ "${DOCKFIX_MODE:-check}" = check ]; }; then
        return "$code"
    fi
}

"$@"
