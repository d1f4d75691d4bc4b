package dev.torus.metadata.kv;

import dev.torus.PeerId;
import dev.torus.VolumeId;

/**
 * The key schema, version 1, under one root prefix. Documented in {@code docs/etcd-keys.md}.
 *
 * <p>Every key that belongs to one volume lives under {@code volumes/<id>/} with a fixed-width id
 * and a trailing slash, so deleting one volume's keys can never touch another's (the Go original
 * deleted {@code volumemeta/2} and with it {@code volumemeta/2a...}).
 */
final class MetadataKeys {
  private final String root;

  MetadataKeys(String rootPrefix) {
    String r = rootPrefix.endsWith("/") ? rootPrefix.substring(0, rootPrefix.length() - 1) : rootPrefix;
    if (!r.startsWith("/") || r.length() < 2) {
      throw new IllegalArgumentException("root prefix must look like /name: " + rootPrefix);
    }
    this.root = r + "/";
  }

  /** Everything Torus owns, including other schema versions. */
  String all() {
    return root;
  }

  String global() {
    return root + "v1/global";
  }

  String volumeCounter() {
    return root + "v1/volume-counter";
  }

  String ringPrefix() {
    return root + "v1/ring/";
  }

  String ring() {
    return ringPrefix() + "current";
  }

  String peersPrefix() {
    return root + "v1/peers/";
  }

  String peer(PeerId id) {
    return peersPrefix() + id.uuid();
  }

  String name(String volumeName) {
    return root + "v1/names/" + volumeName;
  }

  String volumesPrefix() {
    return root + "v1/volumes/";
  }

  String volume(VolumeId id) {
    return volumesPrefix() + id.hex() + "/";
  }

  String info(VolumeId id) {
    return volume(id) + "info";
  }

  String root(VolumeId id) {
    return volume(id) + "root";
  }

  String sessions(VolumeId id) {
    return volume(id) + "sessions";
  }

  String lock(VolumeId id) {
    return volume(id) + "lock";
  }

  String snapshots(VolumeId id) {
    return volume(id) + "snapshots/";
  }

  String snapshot(VolumeId id, String name) {
    return snapshots(id) + name;
  }

  /** The volume id of a key under {@link #volumesPrefix()}. */
  VolumeId volumeOf(String key) {
    int start = volumesPrefix().length();
    return new VolumeId(Long.parseLong(key.substring(start, key.indexOf('/', start)), 16));
  }

  /** The part of a key under {@link #volumesPrefix()} after {@code <id>/}. */
  String volumeSuffix(String key) {
    int start = volumesPrefix().length();
    return key.substring(key.indexOf('/', start) + 1);
  }
}
