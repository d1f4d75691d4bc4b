package dev.torus.cli;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;

import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** torusctl and torusblk are thin wrappers over the library. */
final class ArchitectureTest {
  private static final JavaClasses CLI = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.torus.cli");

  @Test
  void reachesMetadataOnlyThroughTheCore() {
    noClasses().should().dependOnClassesThat()
        .resideInAnyPackage("io.etcd..", "io.grpc..", "java.sql..", "org.sqlite..", "io.netty.channel..")
        .check(CLI);
  }

  @Test
  void onlyTheMainMethodsExitTheProcess() {
    noClasses().that().doNotHaveSimpleName("TorusCtl").and().doNotHaveSimpleName("TorusBlk")
        .should().callMethod(System.class, "exit", int.class)
        .check(CLI);
  }
}
