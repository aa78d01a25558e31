using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Portal;

/// <summary>
/// Which sign-in the portal uses and what its pages may reach. Local mode (the development sign-in) only when the app
/// runs on its own, in Development, with the local token issuer: anywhere else the portal signs in with Entra ID.
/// </summary>
public sealed class PortalSettings
{
    public PortalSettings(IConfiguration configuration, RuntimeMode mode, IHostEnvironment environment, StorageClients storage)
    {
        var auth = configuration.GetSection("Auth");
        var localKey = auth["SigningKey"] is { Length: > 0 } || auth["SigningKeyFile"] is { Length: > 0 };
        IsLocal = environment.IsDevelopment() && !mode.IsCustomHandler && string.IsNullOrWhiteSpace(auth["Authority"]) && localKey;
        var portal = configuration.GetSection("Portal");
        ClientId = portal["ClientId"];
        Authority = portal["Authority"] ?? auth["Authority"];
        Scope = portal["Scope"] ?? (auth["Audience"] is { Length: > 0 } audience ? audience.TrimEnd('/') + "/.default" : null);
        // The browser PUTs uploads straight to blob storage with the signed links, so the blob endpoint is a place it may connect to.
        UploadsOrigin = storage.Blobs.Uri.GetLeftPart(UriPartial.Authority);
        var entra = Authority is not null && Uri.TryCreate(Authority, UriKind.Absolute, out var authority) ? " " + authority.GetLeftPart(UriPartial.Authority) : "";
        ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
            $"connect-src 'self' {UploadsOrigin}{entra}; frame-src 'self'{entra}; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
    }

    public bool IsLocal { get; }
    public string? ClientId { get; }
    public string? Authority { get; }
    public string? Scope { get; }
    public string UploadsOrigin { get; }
    public string ContentSecurityPolicy { get; }

    public string SigningKey(IConfiguration configuration)
    {
        var auth = configuration.GetSection("Auth");
        if (auth["SigningKey"] is { Length: > 0 } key) return key;
        return File.ReadAllText(auth["SigningKeyFile"]!).Trim();
    }
}
