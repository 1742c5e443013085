"""Files generated from the code and committed, each with a ``check`` that fails when stale.

- ``binome-docs`` (:mod:`.docs_cli`): JSON Schemas, AsyncAPI documents, the event catalogue,
  the settings and the HR import's columns, under docs/;
- ``binome-manifests`` (:mod:`.deploy_manifests`): the Strimzi and CloudNativePG resources
  under deploy/components/*/generated/.

They read every service, so they live here, beside the local stack, and not in
``binome_shared``, which imports no service. /
Fichiers générés depuis le code et versionnés ; ``check`` échoue s'ils ne sont plus à jour.
"""
