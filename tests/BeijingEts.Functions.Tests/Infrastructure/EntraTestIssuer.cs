using System.Security.Cryptography;
using BeijingEts.Functions.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>
/// Stands in for Entra ID where the app runs as it does in Azure: RS256 tokens with an "oid", validated against a key
/// handed to the bearer handler as its OpenID configuration, so no metadata is fetched from the network.
/// </summary>
public sealed class EntraTestIssuer
{
    public const string Tenant = "00000000-0000-0000-0000-0000000000e7";
    public const string Issuer = $"https://login.microsoftonline.com/{Tenant}/v2.0";
    public const string Audience = "api://beijing-ets-tests";

    private readonly RsaSecurityKey _key = new(RSA.Create(2048)) { KeyId = "test-key" };

    /// <summary>The settings an Azure deployment has: an authority and audience, no local key.</summary>
    public IDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Auth:SigningKey"] = null,
        ["Auth:Authority"] = $"https://login.microsoftonline.com/{Tenant}/v2.0",
        ["Auth:Audience"] = Audience,
        ["Auth:Issuer"] = Issuer,
    };

    /// <summary>Registered after the app's own bearer set-up, so it replaces the metadata download with the key above.</summary>
    public void Configure(IServiceCollection services)
    {
        var configuration = new OpenIdConnectConfiguration { Issuer = Issuer };
        configuration.SigningKeys.Add(_key);
        services.PostConfigure<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme, options =>
        {
            options.Configuration = configuration;
            options.ConfigurationManager = new StaticConfigurationManager<OpenIdConnectConfiguration>(configuration);
        });
    }

    /// <summary>A token as Entra ID issues it: roles, the per-app "sub" and the stable "oid".</summary>
    public string Create(string role, string? scope = null, string? objectId = null, string algorithm = SecurityAlgorithms.RsaSha256)
    {
        var claims = LocalTokens.Claims(role, scope, subject: "pairwise-" + Guid.NewGuid().ToString("N"));
        claims[EtsClaims.ObjectId] = objectId ?? ObjectIdOf(role, scope);
        var now = DateTime.UtcNow;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = Audience,
            Claims = claims,
            IssuedAt = now,
            NotBefore = now,
            Expires = now.AddHours(1),
            SigningCredentials = new SigningCredentials(_key, algorithm),
        });
    }

    /// <summary>One stable object id per role and scope, as one person keeps one oid across tokens.</summary>
    public static string ObjectIdOf(string role, string? scope) =>
        new Guid(MD5.HashData(System.Text.Encoding.UTF8.GetBytes($"{role}:{scope}"))).ToString();
}
