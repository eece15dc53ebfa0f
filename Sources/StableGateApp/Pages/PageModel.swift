import Mustache

/// How a template sees a typed page model: its stored properties by name. The library reads
/// structs through reflection; this type layers several models (a page's own model over its
/// layout's frame) so that a template names the members of both without either being a
/// dictionary. The first layer that has a (non-nil) member of a name answers.
struct LayeredModel: MustacheParent {
    let layers: [Any]

    init(_ layers: Any...) {
        self.layers = layers
    }

    func child(named name: String) -> Any? {
        for layer in layers {
            if let value = Self.member(name, of: layer) { return value }
        }
        return nil
    }

    /// The member `name` of `model`: a parent's child, or the stored property of that name
    /// with an optional unwrapped (nil when it is nil or absent).
    static func member(_ name: String, of model: Any) -> Any? {
        if let parent = model as? any MustacheParent { return parent.child(named: name) }
        guard let value = Mirror(reflecting: model).children.first(where: { $0.label == name })?.value else { return nil }
        let mirror = Mirror(reflecting: value)
        guard mirror.displayStyle == .optional else { return value }
        return mirror.children.first?.value
    }
}

/// The message page of the dashboard and the account pages: a heading, a paragraph and a link.
struct MessagePage: Sendable {
    let heading, body: String
    var link: String?
    var linkText: String?
}
