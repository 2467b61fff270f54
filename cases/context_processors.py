from cases.selectors import is_manager


def navigation(request) -> dict:
    """What the base layout's navigation offers this user."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_manager": is_manager(user)}
