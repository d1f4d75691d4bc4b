package dev.torus.metadata;

import java.util.List;

/**
 * Every volume's state read at one metadata revision.
 *
 * @param lastVolumeId the highest volume id handed out so far; a block of a higher volume belongs
 *     to a volume created after this view
 */
public record ClusterView(long revision, long lastVolumeId, List<VolumeState> volumes) {
  public ClusterView {
    volumes = List.copyOf(volumes);
  }
}
