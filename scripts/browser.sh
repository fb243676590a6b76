# Sourced by test.sh: Debian's Chromium (and a Chinese font, for legible screenshots) for the
# browser tests. Installed with apt when missing and this runs as root; otherwise the browser
# tests say what is missing and skip, except in CI (CI=true), where they fail.
if [ ! -x /usr/bin/chromium ] || ! fc-list 2>/dev/null | grep -qi -e wqy -e "noto sans cjk"; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "installing Chromium and a CJK font for the browser tests (apt)" >&2
        apt-get update -q >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-wqy-microhei >/dev/null
    elif [ ! -x /usr/bin/chromium ]; then
        echo "no /usr/bin/chromium and not root: the browser tests (tests/e2e/test_pages.py) will skip" >&2
    fi
fi
