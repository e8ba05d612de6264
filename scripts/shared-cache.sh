# Sourced by scripts/quickstart and scripts/run-tests.
# As root, ktstr-orch drops to an unprivileged user (SUDO_USER, else nobody)
# that must read the cached kernels and schedulers, which a cache under /root
# (mode 700) does not allow: root runs use a shared cache in /var/cache.
# Its images/ belongs to the image cache's owner, the account ktstr
# (docs/security.md, "Who owns what"), and ktstr-orch creates it so; only
# without that account does the builder run as the drop user, which then
# needs to write it.
if [ "$(id -u)" -eq 0 ] && [ -z "${KTSTR_CACHE_DIR:-}" ]; then
	export KTSTR_CACHE_DIR=/var/cache/ktstr
	install -d -m 755 "$KTSTR_CACHE_DIR"
	if getent passwd ktstr >/dev/null; then
		# An images/ left by the old layout (the drop user's) is refused
		# by ktstr-orch, rightly: VMs ran as its owner. It is only a
		# cache: start it again.
		if [ -d "$KTSTR_CACHE_DIR/images" ] &&
			[ "$(stat -c %U "$KTSTR_CACHE_DIR/images")" != ktstr ]; then
			echo "shared-cache: $KTSTR_CACHE_DIR/images belongs to $(stat -c %U "$KTSTR_CACHE_DIR/images"), not ktstr: removing it (images are rebuilt)"
			rm -rf "$KTSTR_CACHE_DIR/images"
		fi
	else
		ktstr_drop_user=${SUDO_USER:-nobody}
		[ "$ktstr_drop_user" = root ] && ktstr_drop_user=nobody
		install -d -m 755 -o "$ktstr_drop_user" "$KTSTR_CACHE_DIR/images"
	fi
fi
