from django.urls import path

from cobot_sevdesk.web import auth, books, ops, payments, views, webhooks

app_name = "web"

urlpatterns = [
    path("", auth.home, name="home"),
    path("login/", auth.start_login, name="login"),
    path("auth/callback/", auth.callback, name="callback"),
    path("logout/", auth.log_out, name="logout"),
    path("spaces/", auth.spaces, name="spaces"),
    path("spaces/<str:subdomain>/connect/", auth.choose_space, name="choose"),
    path("hooks/<str:secret>/<str:event>/", webhooks.webhook, name="webhook"),
    path("healthz", ops.health, name="health"),
    path("metrics", ops.metrics, name="metrics"),
    path("openapi.yaml", ops.openapi, name="openapi"),
    path("s/<str:subdomain>/", views.dashboard, name="dashboard"),
    path("s/<str:subdomain>/settings/", views.settings_view, name="settings"),
    path("s/<str:subdomain>/disconnect/", views.disconnect, name="disconnect"),
    path("s/<str:subdomain>/payments/", payments.payment_settings, name="payment_settings"),
    path("s/<str:subdomain>/retry-failed/", views.retry_failed, name="retry_failed"),
    path("s/<str:subdomain>/items/<int:item_id>/", views.item_detail, name="item"),
    path("s/<str:subdomain>/items/<int:item_id>/retry/", views.retry_item, name="retry"),
    path("s/<str:subdomain>/items/<int:item_id>/skip/", views.skip_item, name="skip"),
    path("s/<str:subdomain>/items/<int:item_id>/handled/", views.handled_item, name="handled"),
    path("s/<str:subdomain>/backfills/", views.start_backfill, name="start_backfill"),
    path("s/<str:subdomain>/backfills/<int:backfill_id>/", views.backfill_detail, name="backfill"),
    path("s/<str:subdomain>/books/", books.books_page, name="books"),
    path("s/<str:subdomain>/books/run/", books.run_books_check, name="run_books_check"),
    path("s/<str:subdomain>/books/<int:check_id>/status/", books.books_status, name="books_status"),
    path("s/<str:subdomain>/books/<int:check_id>/csv/", books.books_csv, name="books_csv"),
    path(
        "s/<str:subdomain>/backfills/<int:backfill_id>/cancel/",
        views.cancel_backfill,
        name="cancel_backfill",
    ),
]
