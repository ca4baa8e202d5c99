//! Compiles the .slint UI with the bundled vi/en translations; debug builds keep Slint's
//! debug info so tests can find elements by `accessible-id`.

fn main() {
    let debug = std::env::var("PROFILE").is_ok_and(|p| p == "debug");
    let config = slint_build::CompilerConfiguration::new()
        .with_style("fluent-light".into())
        .with_bundled_translations("i18n")
        // One msgid, one meaning: the .po files carry no per-component context.
        .with_default_translation_context(slint_build::DefaultTranslationContext::None)
        .with_debug_info(debug);
    if let Err(e) = slint_build::compile_with_config("ui/app.slint", config) {
        panic!("could not compile the UI: {e}");
    }
    println!("cargo:rerun-if-changed=i18n");
}
