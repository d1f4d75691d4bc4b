package dev.torus.metadata.etcd;

import static org.assertj.core.api.Assertions.assertThat;

import dev.torus.ErrorCode;
import dev.torus.TorusException;
import io.grpc.Status;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

final class EtcdErrorsTest {
  private final EtcdErrors errors = new EtcdErrors(EtcdConfig.of("127.0.0.1:2379"), () -> false);

  @Test
  void aConnectionThatBrokeMidCallIsUnavailableNotABug() {
    TorusException e = errors.map("transaction",
        new CompletionException(Status.UNKNOWN.withDescription("channel closed").asRuntimeException()));
    assertThat(e.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(e.getMessage()).contains("127.0.0.1:2379").contains("may or may not have been applied");
  }

  @Test
  void anUnknownFailureThatIsNotTheConnectionStaysInternal() {
    TorusException e = errors.map("get", Status.UNKNOWN.withDescription("etcd exploded").asRuntimeException());
    assertThat(e.code()).isEqualTo(ErrorCode.INTERNAL);
  }

  @Test
  void refusedAndSlowAreUnavailableAndTimeout() {
    assertThat(errors.map("get", Status.UNAVAILABLE.withDescription("Connection refused").asRuntimeException())
        .code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(errors.map("get", Status.DEADLINE_EXCEEDED.asRuntimeException()).code())
        .isEqualTo(ErrorCode.TIMEOUT);
  }
}
