"""Drop-in replacements for other Cedar Python APIs, backed by cedarlang.

``import cedarlang.compat.cedarpy as cedarpy`` runs code written for the ``cedarpy``
package (the Rust engine bindings) on the pure-Python engine.
"""
