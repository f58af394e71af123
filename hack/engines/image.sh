# Images for the engine tests, built locally from busybox-static: no
# registry, nothing downloaded. Sourced by hack/test-engines.sh.

# image_rootfs_tar DIR OUT: a busybox rootfs (hack/mkrootfs.sh) in DIR, then
# an uncompressed tar of it in OUT (what `podman import` takes).
image_rootfs_tar() {
	local dir=$1 out=$2
	hack/mkrootfs.sh "$dir"
	tar --numeric-owner -C "$dir" -cf "$out" .
}

# _oci_blob LAYOUT FILE MEDIATYPE: moves FILE into LAYOUT/blobs/sha256 under
# its digest and prints the descriptor JSON.
_oci_blob() {
	local layout=$1 file=$2 media=$3 digest size
	digest=$(sha256sum "$file" | cut -d' ' -f1)
	size=$(stat -c %s "$file")
	mv "$file" "$layout/blobs/sha256/$digest"
	printf '{"mediaType":"%s","digest":"sha256:%s","size":%s}' "$media" "$digest" "$size"
}

# image_oci_archive LAYER_TAR OUT REF: an OCI image layout (one layer, the
# rootfs tar; image-spec image-layout.md) packed as a tar in OUT, its one
# manifest named REF (org.opencontainers.image.ref.name), for
# `ctr image import`.
image_oci_archive() {
	local layer=$1 out=$2 ref=$3 layout diff_id layer_desc config_desc manifest_desc
	layout=$(mktemp -d "${out%/*}/oci.XXXXXX")
	mkdir -p "$layout/blobs/sha256"
	printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	# Uncompressed layer: its digest is also its diff_id.
	cp "$layer" "$layout/layer.tar"
	diff_id=$(sha256sum "$layout/layer.tar" | cut -d' ' -f1)
	layer_desc=$(_oci_blob "$layout" "$layout/layer.tar" application/vnd.oci.image.layer.v1.tar)
	printf '{"architecture":"%s","os":"linux","config":{"Cmd":["/bin/sh"],"Env":["PATH=/usr/sbin:/usr/bin:/sbin:/bin"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
		"$(go_arch)" "$diff_id" >"$layout/config.json"
	config_desc=$(_oci_blob "$layout" "$layout/config.json" application/vnd.oci.image.config.v1+json)
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":%s,"layers":[%s]}' \
		"$config_desc" "$layer_desc" >"$layout/manifest.json"
	manifest_desc=$(_oci_blob "$layout" "$layout/manifest.json" application/vnd.oci.image.manifest.v1+json)
	printf '{"schemaVersion":2,"manifests":[%s]}' \
		"${manifest_desc%\}},\"annotations\":{\"org.opencontainers.image.ref.name\":\"$ref\"}}" >"$layout/index.json"
	tar -C "$layout" -cf "$out" oci-layout index.json blobs
	rm -rf "$layout"
}

# go_arch: this machine's architecture as OCI/Go spell it.
go_arch() {
	case $(uname -m) in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	*) uname -m ;;
	esac
}
