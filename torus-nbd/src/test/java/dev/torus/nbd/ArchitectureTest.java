package dev.torus.nbd;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.classes;
import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static org.assertj.core.api.Assertions.assertThat;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.JavaModifier;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import org.junit.jupiter.api.Test;

/** The module rules of style.md 7.1, enforced rather than reviewed. */
final class ArchitectureTest {
  private static final JavaClasses MAIN = new ClassFileImporter()
      .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
      .importPackages("dev.torus.nbd");

  @Test
  void usesOnlyTorusCorePublicPackagesAndNoEtcdOrGrpc() {
    noClasses().should().dependOnClassesThat()
        .resideInAnyPackage("dev.torus..internal..", "io.etcd..", "io.grpc..")
        .check(MAIN);
  }

  @Test
  void keepsTheApiSmall() {
    assertThat(MAIN.stream()
            .filter(JavaClass::isTopLevelClass)
            .filter(c -> c.getModifiers().contains(JavaModifier.PUBLIC))
            .map(JavaClass::getSimpleName))
        .containsExactlyInAnyOrder("NbdServer", "NbdServerConfig", "NbdTls", "ExportResolver",
            "ExportInfo", "NbdKernelDevice", "VolumeExports");
  }

  @Test
  void implementationClassesAreFinal() {
    classes().that().areTopLevelClasses().and().areNotInterfaces().and().areNotEnums()
        .and().areNotRecords()
        .should().haveModifier(JavaModifier.FINAL)
        .check(MAIN);
  }
}
