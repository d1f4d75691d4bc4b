package dev.torus.nbd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import java.io.IOException;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;

final class NbdErrorTest {
  @ParameterizedTest
  @CsvSource({
    "INVALID_ARGUMENT, EINVAL",
    "NOT_SUPPORTED, EINVAL",
    "OUT_OF_SPACE, ENOSPC",
    "READ_ONLY, EPERM",
    "CLOSED, ESHUTDOWN",
    "CORRUPTED, EIO",
    "LOCKED, EIO",
    "UNAVAILABLE, EIO",
    "TIMEOUT, EIO",
    "INTERNAL, EIO",
  })
  void mapsEveryFailureCodeToTheSpecsErrno(ErrorCode code, NbdError expected) {
    assertThat(NbdError.from(new CompletionException(new TorusException(code, "x"))))
        .isEqualTo(expected);
  }

  @ParameterizedTest
  @EnumSource(ErrorCode.class)
  void neverMapsToSomethingTheSpecReservesForOtherUses(ErrorCode code) {
    // ENOTSUP is only for FAST_ZERO and EOVERFLOW only for DF: the server decides those itself.
    assertThat(NbdError.from(new TorusException(code, "x")))
        .isNotIn(NbdError.ENOTSUP, NbdError.EOVERFLOW);
  }

  @ParameterizedTest
  @EnumSource(NbdError.class)
  void codesRoundTrip(NbdError error) {
    assertThat(NbdError.fromCode(error.code())).isEqualTo(error);
  }

  @Test
  void foreignFailuresAreIoErrors() {
    assertThat(NbdError.from(new IOException("disk gone"))).isEqualTo(NbdError.EIO);
    assertThat(NbdError.from(new IllegalStateException("bug"))).isEqualTo(NbdError.EIO);
    assertThat(NbdError.fromCode(4)).isNull();
  }
}
