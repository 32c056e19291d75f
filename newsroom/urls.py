from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

from explainers.page_cache import public_page
from newsroom.media import serve_media

from . import views

# A database that cannot be reached is a 503 with Retry-After, wherever it fails.
handler500 = "newsroom.db_router.server_error"
handler403 = "newsroom.views.permission_denied"

admin.site.site_header = "Newsroom"
admin.site.site_title = "Newsroom admin"
# The home page lists the models; the sidebar's copy of that list cost a third of a laptop's
# width, which the explainer list's columns need.
admin.site.enable_nav_sidebar = False
admin.site.index_title = "Explainers and ratings"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("manifest.webmanifest", public_page(views.manifest), name="manifest"),
    path("robots.txt", public_page(views.robots_txt), name="robots"),
    path("", include("feedback.urls")),
    path("", include("explainers.urls")),
]

# In production the web server or a bucket serves uploads (docs/operations.md, "Images").
urlpatterns += static(settings.MEDIA_URL, view=serve_media)
