package dev.torus.server;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** torusd is a composition root: it wires the core, it does not talk to etcd or exit elsewhere. */
final class ArchitectureTest {
  private static final JavaClasses SERVER = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.torus.server");

  @Test
  void reachesMetadataOnlyThroughTheCore() {
    noClasses().should().dependOnClassesThat()
        .resideInAnyPackage("io.etcd..", "io.grpc..", "java.sql..", "org.sqlite..")
        .check(SERVER);
  }

  @Test
  void onlyMainExitsTheProcess() {
    noClasses().that().doNotHaveSimpleName("TorusDaemon")
        .should().callMethod(System.class, "exit", int.class)
        .check(SERVER);
  }
}
