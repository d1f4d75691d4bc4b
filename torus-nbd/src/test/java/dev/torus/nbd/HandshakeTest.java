package dev.torus.nbd;

import static dev.torus.nbd.NbdTestClient.*;
import static dev.torus.nbd.Wire.hex;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.torus.TorusExceptions;
import dev.torus.nbd.NbdTestClient.ExportDetails;
import dev.torus.nbd.NbdTestClient.OptionReply;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Every handshake option against a running server, including the ways clients get it wrong. */
@ExtendWith(NoLeaks.class)
final class HandshakeTest {
  private final ServerFixture fixture = new ServerFixture(c -> c.defaultExport("disk"));
  private final List<NbdTestClient> clients = new ArrayList<>();

  @AfterEach
  void close() {
    clients.forEach(NbdTestClient::close);
    fixture.close();
  }

  private NbdTestClient connect() {
    NbdTestClient c = NbdTestClient.connect(fixture.address());
    clients.add(c);
    return c;
  }

  /** Connected, greeted, client flags FIXED_NEWSTYLE | NO_ZEROES sent. */
  private NbdTestClient negotiating() {
    NbdTestClient c = connect();
    c.greeting();
    c.clientFlags(3);
    return c;
  }

  private void assertServerStillServes() {
    NbdTestClient c = fixture.open("disk", Mode.STRUCTURED);
    clients.add(c);
    c.write(0, new byte[] {1, 2, 3});
    assertThat(c.read(0, 3)).containsExactly(1, 2, 3);
  }

  @Test
  void greetingOffersFixedNewstyleAndNoZeroes() {
    assertThat(connect().greeting()).isEqualTo(0x3);
  }

  @Test
  void unknownClientFlagsDropTheConnection() {
    NbdTestClient c = connect();
    c.greeting();
    c.clientFlags(0x7);

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertServerStillServes();
  }

  @Test
  void unknownOptionsGetErrUnsupAndParsingGoesOn() {
    NbdTestClient c = negotiating();

    for (int option : new int[] {OPT_STARTTLS, 4, 12, 0x7fffffff}) {
      OptionReply r = c.option(option, new byte[] {1, 2, 3}).get(0);
      assertThat(r.type()).isEqualTo(REP_ERR_UNSUP);
      assertThat(r.option()).isEqualTo(option);
    }
    assertThat(c.go("disk").size()).isEqualTo(ServerFixture.SIZE);
  }

  @Test
  void listNamesEveryExportWithItsDescription() {
    NbdTestClient c = negotiating();
    List<OptionReply> replies = c.expectAck(c.option(OPT_LIST, new byte[0]));

    assertThat(replies).hasSize(3);
    ByteBuffer first = ByteBuffer.wrap(replies.get(0).data());
    assertThat(replies.get(0).type()).isEqualTo(REP_SERVER);
    byte[] name = new byte[first.getInt()];
    first.get(name);
    byte[] description = new byte[first.remaining()];
    first.get(description);
    assertThat(new String(name, StandardCharsets.UTF_8)).isEqualTo("disk");
    assertThat(new String(description, StandardCharsets.UTF_8)).isEqualTo("model");
  }

  @Test
  void listWithDataIsInvalid() {
    NbdTestClient c = negotiating();

    assertThat(c.option(OPT_LIST, new byte[] {0}).get(0).type()).isEqualTo(REP_ERR_INVALID);
    assertThat(c.go("disk").size()).isEqualTo(ServerFixture.SIZE);
  }

  @Test
  void infoDescribesWithoutOpening() {
    NbdTestClient c = negotiating();

    ExportDetails d = details(c.expectAck(c.option(OPT_INFO,
        exportData("ro", INFO_NAME, INFO_DESCRIPTION, INFO_BLOCK_SIZE, 77))));

    assertThat(d.size()).isEqualTo(ServerFixture.SIZE);
    assertThat(d.name()).isEqualTo("ro");
    assertThat(d.description()).isEqualTo("model");
    assertThat(d.minBlock()).isEqualTo(1);
    assertThat(d.preferredBlock()).isEqualTo(4096);
    assertThat(d.maxBlock()).isEqualTo(NbdServerConfig.DEFAULT_MAX_PAYLOAD);
    assertThat(d.has(FLAG_READ_ONLY)).isTrue();
    assertThat(fixture.exports.opened).hasValue(0);
  }

  @Test
  void goAnswersExactlyWhatInfoAnswered() {
    NbdTestClient c = negotiating();
    c.structuredReplies();
    List<OptionReply> info = c.expectAck(c.option(OPT_INFO, exportData("disk", INFO_BLOCK_SIZE)));

    List<OptionReply> go = c.expectAck(c.option(OPT_GO, exportData("disk", INFO_BLOCK_SIZE)));

    assertThat(details(go)).isEqualTo(details(info));
    assertThat(fixture.exports.opened).hasValue(1);
  }

  @Test
  void goAdvertisesEveryCommandAndMultiConnForSharedDevices() {
    ExportDetails simple = negotiating().go("disk");

    assertThat(simple.flags()).isEqualTo(FLAG_HAS_FLAGS | FLAG_SEND_FLUSH | FLAG_SEND_FUA
        | FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO | FLAG_SEND_CACHE
        | FLAG_CAN_MULTI_CONN);
    NbdTestClient structured = negotiating();
    structured.structuredReplies();
    assertThat(structured.go("disk").has(FLAG_SEND_DF)).isTrue();
  }

  @Test
  void readOnlyExportsSayReadOnlyAndOfferNoWritingCommands() {
    ExportDetails d = negotiating().go("ro");

    assertThat(d.has(FLAG_READ_ONLY)).isTrue();
    assertThat(d.flags() & (FLAG_SEND_TRIM | FLAG_SEND_WRITE_ZEROES | FLAG_SEND_FAST_ZERO))
        .isZero();
  }

  @Test
  void aServerConfiguredReadOnlyMakesEveryExportReadOnly() {
    try (ServerFixture readOnly = new ServerFixture(c -> c.readOnly(true));
        NbdTestClient c = NbdTestClient.connect(readOnly.address())) {
      c.greeting();
      c.clientFlags(3);
      assertThat(c.go("disk").has(FLAG_READ_ONLY)).isTrue();
    }
  }

  @Test
  void theEmptyNameMeansTheDefaultExport() {
    NbdTestClient c = negotiating();

    ExportDetails d = c.go("", INFO_NAME);

    assertThat(d.name()).isEqualTo("disk");
  }

  @Test
  void unknownExportsAreErrUnknownAndTheClientMayTryAgain() {
    NbdTestClient c = negotiating();

    assertThat(c.option(OPT_GO, exportData("nope")).get(0).type()).isEqualTo(REP_ERR_UNKNOWN);
    assertThat(c.option(OPT_INFO, exportData("nope")).get(0).type()).isEqualTo(REP_ERR_UNKNOWN);
    assertThat(c.go("disk").size()).isEqualTo(ServerFixture.SIZE);
  }

  @Test
  void anExportLockedElsewhereIsRefusedByPolicy() {
    fixture.exports.failOpens(TorusExceptions.locked("volume disk is open on host b"));
    NbdTestClient c = negotiating();

    OptionReply r = c.option(OPT_GO, exportData("disk")).get(0);

    assertThat(r.type()).isEqualTo(REP_ERR_POLICY);
    assertThat(r.text()).contains("open on host b");
  }

  @Test
  void malformedInfoDataIsInvalidAndParsingGoesOn() {
    NbdTestClient c = negotiating();

    byte[][] malformed = {
      hex("00000010 6469736b 0000"), // name longer than the data
      hex("00000004 6469736b 0002 0001"), // two requests announced, one sent
      hex("00000004 6469736b"), // no request count
      hex("00000002 ff fe 0000"), // not UTF-8
      hex("00000002 64 00 0000"), // NUL in the name
    };
    for (byte[] data : malformed) {
      assertThat(c.option(OPT_INFO, data).get(0).type()).isEqualTo(REP_ERR_INVALID);
    }
    assertThat(c.go("disk").size()).isEqualTo(ServerFixture.SIZE);
  }

  @Test
  void exportNameAnswersWithZeroPaddingUnlessNoZeroes() {
    NbdTestClient padded = connect();
    padded.greeting();
    padded.clientFlags(1);
    padded.sendOption(OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));
    ByteBuffer b = ByteBuffer.wrap(padded.receive(10 + 124));
    assertThat(b.getLong()).isEqualTo(ServerFixture.SIZE);
    assertThat(b.getShort() & FLAG_HAS_FLAGS).isEqualTo(FLAG_HAS_FLAGS);
    padded.write(0, new byte[] {9});

    NbdTestClient bare = negotiating();
    bare.sendOption(OPT_EXPORT_NAME, new byte[0]); // the default export
    assertThat(ByteBuffer.wrap(bare.receive(10)).getLong()).isEqualTo(ServerFixture.SIZE);
    assertThat(bare.read(0, 1)).containsExactly(9);
  }

  @Test
  void exportNameForAnUnknownExportHangsUp() {
    NbdTestClient c = negotiating();
    c.sendOption(OPT_EXPORT_NAME, "nope".getBytes(StandardCharsets.UTF_8));

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertServerStillServes();
  }

  @Test
  void abortIsAcknowledgedThenTheServerCloses() {
    NbdTestClient c = negotiating();

    assertThat(c.option(OPT_ABORT, new byte[] {1}).get(0).type()).isEqualTo(REP_ACK);
    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
  }

  @Test
  void structuredReplyTakesNoDataAndYieldsToExtendedHeaders() {
    NbdTestClient c = negotiating();

    assertThat(c.option(OPT_STRUCTURED_REPLY, new byte[] {0}).get(0).type())
        .isEqualTo(REP_ERR_INVALID);
    assertThat(c.option(OPT_EXTENDED_HEADERS, new byte[] {0}).get(0).type())
        .isEqualTo(REP_ERR_INVALID);
    c.extendedHeaders();
    assertThat(c.option(OPT_STRUCTURED_REPLY, new byte[0]).get(0).type())
        .isEqualTo(REP_ERR_EXT_HEADER_REQD);
  }

  @Test
  void exportNameIsForbiddenAfterExtendedHeaders() {
    NbdTestClient c = negotiating();
    c.extendedHeaders();

    c.sendOption(OPT_EXPORT_NAME, "disk".getBytes(StandardCharsets.UTF_8));

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
  }

  @Test
  void metaContextsNeedStructuredReplies() {
    NbdTestClient c = negotiating();

    assertThat(c.option(OPT_LIST_META_CONTEXT, metaContextData("disk")).get(0).type())
        .isEqualTo(REP_ERR_INVALID);
    assertThat(c.option(OPT_SET_META_CONTEXT, metaContextData("disk", "base:allocation"))
        .get(0).type()).isEqualTo(REP_ERR_INVALID);
  }

  @Test
  void listMetaContextOffersBaseAllocation() {
    NbdTestClient c = negotiating();
    c.structuredReplies();

    for (String[] queries : new String[][] {{}, {"base:"}, {"base:allocation"}}) {
      List<OptionReply> r = c.expectAck(c.option(OPT_LIST_META_CONTEXT,
          metaContextData("disk", queries)));
      assertThat(r).hasSize(2);
      assertThat(r.get(0).type()).isEqualTo(REP_META_CONTEXT);
      assertThat(new String(r.get(0).data(), 4, r.get(0).data().length - 4,
          StandardCharsets.UTF_8)).isEqualTo("base:allocation");
    }
    assertThat(c.expectAck(c.option(OPT_LIST_META_CONTEXT,
        metaContextData("disk", "qemu:dirty-bitmap:x", "base:nothing")))).hasSize(1);
    assertThat(c.option(OPT_LIST_META_CONTEXT, metaContextData("nope")).get(0).type())
        .isEqualTo(REP_ERR_UNKNOWN);
  }

  @Test
  void setMetaContextSelectsBaseAllocationForThatExportOnly() {
    NbdTestClient c = negotiating();
    c.structuredReplies();

    List<OptionReply> r = c.expectAck(c.option(OPT_SET_META_CONTEXT,
        metaContextData("disk", "base:", "x-other:thing", "base:allocation")));
    assertThat(r).hasSize(2);
    assertThat(ByteBuffer.wrap(r.get(0).data()).getInt()).isNotZero();
    c.go("ro");

    // Selected for "disk", but the client went to "ro": no block status there.
    assertThat(c.call(0, CMD_BLOCK_STATUS, 0, 4096, new byte[0]).error()).isEqualTo(EINVAL);
  }

  @Test
  void malformedMetaContextDataIsInvalid() {
    NbdTestClient c = negotiating();
    c.structuredReplies();

    byte[][] malformed = {
      hex("00000004 6469736b 00000002 00000001 61"), // two queries announced, one sent
      hex("00000004 6469736b 00000001 00000010 61"), // query longer than the data
      hex("00000004 6469736b 7fffffff"), // absurd query count
      hex("00000004 6469736b 00000000 ff"), // trailing garbage
    };
    for (byte[] data : malformed) {
      assertThat(c.option(OPT_SET_META_CONTEXT, data).get(0).type()).isEqualTo(REP_ERR_INVALID);
    }
  }

  @Test
  void oversizedOptionDataIsDrainedAndRefused() {
    NbdTestClient c = negotiating();

    OptionReply r = c.option(OPT_GO, new byte[HandshakeDecoder.MAX_OPTION_DATA + 10]).get(0);

    assertThat(r.type()).isEqualTo(REP_ERR_TOO_BIG);
    assertThat(c.go("disk").size()).isEqualTo(ServerFixture.SIZE);
  }

  @Test
  void optionsAfterAbortAreDropped() {
    NbdTestClient c = negotiating();
    c.send(Wire.concat(
        hex("49484156454f5054 00000002 00000000"),
        hex("49484156454f5054 00000007 0000000a 00000004 6469736b 0000")));

    assertThat(c.readOptionReply().type()).isEqualTo(REP_ACK);
    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertThat(fixture.exports.opened).hasValue(0);
  }

  @Test
  void optionsSentWhileTheResolverWorksAreAnsweredInOrder() {
    fixture.exports.slow(true);
    NbdTestClient c = negotiating();
    c.send(Wire.concat(
        hex("49484156454f5054 00000003 00000000"), // LIST
        hex("49484156454f5054 00000006 0000000a 00000004 6469736b 0000"), // INFO disk
        hex("49484156454f5054 00000063 00000000"))); // unknown

    List<OptionReply> replies = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      replies.add(c.readOptionReply());
    }
    assertThat(replies).extracting(OptionReply::option, OptionReply::type).containsExactly(
        tuple(OPT_LIST, REP_SERVER), tuple(OPT_LIST, REP_SERVER), tuple(OPT_LIST, REP_ACK),
        tuple(OPT_INFO, REP_INFO), tuple(OPT_INFO, REP_ACK), tuple(0x63, REP_ERR_UNSUP));
    assertThat(c.go("disk").size()).isEqualTo(ServerFixture.SIZE);
  }

  @Test
  void optionsPipelinedBehindGoEndTheConnectionAndReleaseTheExport() throws Exception {
    fixture.exports.slow(true);
    NbdTestClient c = negotiating();
    c.send(Wire.concat(
        hex("49484156454f5054 00000007 0000000a 00000004 6469736b 0000"),
        hex("49484156454f5054 00000002 00000004 01020304")));

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (fixture.exports.closed.get() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(fixture.exports.closed).hasValue(1);
  }

  @Test
  void aClientLeavingWhileItsExportOpensGetsItClosed() throws Exception {
    fixture.exports.slow(true);
    NbdTestClient c = negotiating();
    c.sendOption(OPT_GO, exportData("disk"));
    c.vanish();

    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (fixture.exports.closed.get() < 1 && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    assertThat(fixture.exports.opened).hasValue(1);
    assertThat(fixture.exports.closed).hasValue(1);
  }

  @Test
  void badOptionMagicHangsUp() {
    NbdTestClient c = negotiating();
    c.send(hex("49484156454f5055 00000007 00000000"));

    assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    assertServerStillServes();
  }

  @Test
  void truncatedHandshakesLeaveTheServerServing() {
    NbdTestClient silent = connect();
    silent.greeting();
    silent.send(hex("0000")); // half the client flags
    silent.vanish();
    NbdTestClient half = negotiating();
    half.send(hex("49484156454f5054 00000007 00000020 00000004 64")); // GO cut short
    half.vanish();

    assertServerStillServes();
  }

  @Test
  void slowHandshakesTimeOut() {
    try (ServerFixture quick = new ServerFixture(c -> c.handshakeTimeout(Duration.ofMillis(200)));
        NbdTestClient c = NbdTestClient.connect(quick.address())) {
      c.greeting();
      c.clientFlags(3);

      assertThat(c.awaitClosed(TIMEOUT)).isTrue();
    }
  }

  @Test
  void aClosingServerRefusesOptionsButAcknowledgesAbort() throws Exception {
    NbdTestClient c = negotiating();
    Thread closer = new Thread(fixture.server::close);
    closer.start();
    awaitRefusal(c);

    assertThat(c.option(OPT_INFO, exportData("disk")).get(0).type()).isEqualTo(REP_ERR_SHUTDOWN);
    assertThat(c.option(OPT_ABORT, new byte[0]).get(0).type()).isEqualTo(REP_ACK);
    closer.join(TIMEOUT.toMillis());
    assertThat(closer.isAlive()).isFalse();
  }

  /** LIST until the server says it is shutting down (close() runs on another thread). */
  private static void awaitRefusal(NbdTestClient c) throws InterruptedException {
    long deadline = System.nanoTime() + TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      List<OptionReply> r = c.option(OPT_LIST, new byte[0]);
      if (r.get(r.size() - 1).type() == REP_ERR_SHUTDOWN) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("server never started shutting down");
  }
}
