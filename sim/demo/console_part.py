"""The building manager's console of the standalone demo site (docs/console.md): the demo sets
a manager password, logs in once as the manager (the check that the console answers) and prints
the URL with the login."""

from __future__ import annotations

import aiohttp

from custom_components.eflux.core.runner.console.hashing import hash_password

DEMO_MANAGER = "manager"
DEMO_MANAGER_PASSWORD = "demo-manager-1"


def console_settings() -> dict[str, str]:
    """site.yaml `console:` of the demo (a scrypt hash, as --set-password writes)."""
    return {"password": hash_password(DEMO_MANAGER_PASSWORD)}


async def log_in_manager(api_base: str) -> str:
    """Log the demo manager in (as a browser does: the login page's token, then the form);
    returns the console's URL. RuntimeError when the console refuses."""
    url = f"{api_base}/console/"
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        async with http.get(f"{url}login") as page:
            token = page.cookies["eflux_console_login"].value
        form = {"csrf": token, "user": DEMO_MANAGER, "password": DEMO_MANAGER_PASSWORD}
        async with http.post(f"{url}login", data=form, allow_redirects=False) as answer:
            if answer.status != 303:
                raise RuntimeError(f"the console refused the demo manager: {answer.status}")
    return url
