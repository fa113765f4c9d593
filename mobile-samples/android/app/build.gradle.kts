plugins {
    alias(libs.plugins.android.application)
    alias(libs.plugins.kotlin.android)
    alias(libs.plugins.kotlin.compose)
}

// The repository root: the generated bindings and the native libraries are build output there
// (build/bindings/kotlin from scripts/bindings, build/android/jniLibs from build-rust.sh).
val repoRoot = rootProject.projectDir.resolve("../..")

android {
    namespace = "it.genova.sportello.app"
    compileSdk = 35

    defaultConfig {
        applicationId = "it.genova.sportello"
        minSdk = 24
        targetSdk = 35
        versionCode = 1
        versionName = "0.1.0"
        val baseUrl = providers.gradleProperty("sportello.baseUrl").get()
        buildConfigField("String", "SPORTELLO_BASE_URL", "\"$baseUrl\"")
        // The ABIs build-rust.sh builds; others would crash at the first call into Rust.
        ndk { abiFilters += listOf("arm64-v8a", "armeabi-v7a", "x86_64") }
    }

    buildTypes {
        release {
            isMinifyEnabled = true
            proguardFiles(getDefaultProguardFile("proguard-android-optimize.txt"), "proguard-rules.pro")
        }
    }

    buildFeatures {
        compose = true
        buildConfig = true
    }

    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }

    sourceSets {
        getByName("main") {
            // The same generated Kotlin the JVM tests (mobile-samples/jvm) compile and run.
            kotlin.srcDir(repoRoot.resolve("build/bindings/kotlin"))
            jniLibs.srcDir(repoRoot.resolve("build/android/jniLibs"))
        }
    }
}

kotlin {
    jvmToolchain(17)
}

dependencies {
    implementation(libs.androidx.core.ktx)
    implementation(libs.androidx.activity.compose)
    implementation(libs.androidx.lifecycle.viewmodel.compose)
    implementation(libs.androidx.lifecycle.runtime.compose)
    implementation(libs.androidx.browser)
    implementation(platform(libs.compose.bom))
    implementation(libs.compose.ui)
    implementation(libs.compose.ui.tooling.preview)
    implementation(libs.compose.material3)
    implementation(libs.compose.material.icons)
    implementation(libs.kotlinx.coroutines.android)
    // On Android JNA comes as an AAR, with its own libjnidispatch.so per ABI.
    implementation(libs.jna) { artifact { type = "aar" } }
}
