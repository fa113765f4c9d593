"""The routes of the reference implementation in this run's role (see settings.py)."""

from django.conf import settings
from django.urls import path

from spid_cie_oidc.entity.urls import urlpatterns as entity_urlpatterns

urlpatterns = list(entity_urlpatterns)

if settings.ROLE == "ta":
    from spid_cie_oidc.authority.urls import urlpatterns as ta_urlpatterns

    urlpatterns.extend(ta_urlpatterns)
else:
    from spid_cie_oidc.entity.views import entity_configuration
    from spid_cie_oidc.provider.urls import urlpatterns as op_urlpatterns

    urlpatterns.extend(op_urlpatterns)
    # The provider's entity id is <origin>/oidc/op: its Entity Configuration lives below it.
    urlpatterns.append(
        path("oidc/op/.well-known/openid-federation", entity_configuration, name="op_ec")
    )
