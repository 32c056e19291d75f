from django.contrib.admin.apps import AdminConfig


class NewsroomAdminConfig(AdminConfig):
    """Django's admin, with the site that asks staff for a second factor."""

    default_site = "newsroom.admin_site.NewsroomAdminSite"
