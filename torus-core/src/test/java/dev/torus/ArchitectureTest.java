package dev.torus;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** torus-core's dependency rules (style.md 7.1), enforced rather than reviewed. */
final class ArchitectureTest {
  private static final JavaClasses CORE = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.torus");

  @Test
  void onlyTheEtcdPackageSpeaksEtcdAndGrpc() {
    noClasses().that().resideOutsideOfPackage("dev.torus.metadata.etcd..")
        .should().dependOnClassesThat().resideInAnyPackage("io.etcd..", "io.grpc..")
        .check(CORE);
  }

  @Test
  void onlyTheEmbeddedPackageSpeaksSql() {
    noClasses().that().resideOutsideOfPackage("dev.torus.metadata.embedded..")
        .should().dependOnClassesThat().resideInAnyPackage("java.sql..", "org.sqlite..")
        .check(CORE);
  }

  @Test
  void onlyTheTransportUsesNettyChannels() {
    noClasses().that().resideOutsideOfPackage("dev.torus.transport..")
        .should().dependOnClassesThat().resideInAnyPackage("io.netty.channel..")
        .check(CORE);
  }

  @Test
  void theVocabularyDependsOnNothingElseInTorus() {
    noClasses().that().resideInAPackage("dev.torus")
        .should().dependOnClassesThat().resideInAnyPackage("dev.torus.(*)..")
        .check(CORE);
  }

  @Test
  void theLibraryNeverExitsTheProcessOrParsesFlags() {
    noClasses().should().callMethod(System.class, "exit", int.class)
        .orShould().dependOnClassesThat().resideInAnyPackage("picocli..", "ch.qos.logback..")
        .check(CORE);
  }

  @Test
  void packagesHaveNoCycles() {
    slices().matching("dev.torus.(*)..").should().beFreeOfCycles().check(CORE);
  }
}
