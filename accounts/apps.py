from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    """Staff accounts: the admin's login, lockout page and two-factor authentication."""

    default = True
    name = "accounts"
    label = "accounts"


class NewsroomAdminConfig(admin_apps.AdminConfig):
    """Django's admin, with the site that asks staff for a second factor."""

    default = False
    default_site = "accounts.admin_site.NewsroomAdminSite"
