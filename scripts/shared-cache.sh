# Sourced by scripts/quickstart and scripts/run-tests.
# As root, ktstr-orch drops to an unprivileged user (SUDO_USER, else nobody):
# that user must be able to read the cached kernels and schedulers and write
# the image cache, which a cache under /root (mode 700) does not allow. Root
# runs therefore use a shared cache whose image dir belongs to the drop user.
if [ "$(id -u)" -eq 0 ] && [ -z "${KTSTR_CACHE_DIR:-}" ]; then
	export KTSTR_CACHE_DIR=/var/cache/ktstr
	ktstr_drop_user=${SUDO_USER:-nobody}
	[ "$ktstr_drop_user" = root ] && ktstr_drop_user=nobody
	install -d -m 755 "$KTSTR_CACHE_DIR"
	install -d -m 755 -o "$ktstr_drop_user" "$KTSTR_CACHE_DIR/images"
fi
