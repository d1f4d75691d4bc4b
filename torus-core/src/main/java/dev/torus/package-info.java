/**
 * The value vocabulary shared by every Torus module: identifiers ({@link dev.torus.BlockRef},
 * {@link dev.torus.VolumeId}), sizes ({@link dev.torus.DataSize}) and the exception root with its
 * stable codes ({@link dev.torus.TorusException}, {@link dev.torus.ErrorCode}).
 *
 * <p>Records and enums only; nothing here does I/O.
 */
@NullMarked
package dev.torus;

import org.jspecify.annotations.NullMarked;
