using System.Security.Claims;
using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace BeijingEts.Functions.Auth;

/// <summary>Mints local-issuer tokens with the claims ./scripts/token.sh writes; for tests and the benchmark.</summary>
public static class LocalTokens
{
    public static string Create(string signingKey, string role, string? scope = null, TimeSpan? lifetime = null, DateTimeOffset? now = null)
    {
        var issued = now ?? DateTimeOffset.UtcNow;
        var claims = Claims(role, scope, subject: scope is null ? $"local:{role}" : $"local:{role}:{scope}");
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = AuthSetup.LocalIssuer,
            Audience = AuthSetup.LocalAudience,
            Claims = claims,
            IssuedAt = issued.UtcDateTime,
            NotBefore = issued.UtcDateTime,
            Expires = issued.Add(lifetime ?? TimeSpan.FromHours(8)).UtcDateTime,
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(signingKey)), SecurityAlgorithms.HmacSha256),
        };
        return new JsonWebTokenHandler().CreateToken(descriptor);
    }

    /// <summary>The claims of a token for the role: its subject, its role and, for a scoped role, the claim naming its scope.</summary>
    public static Dictionary<string, object> Claims(string role, string? scope, string subject)
    {
        var claims = new Dictionary<string, object> { [EtsClaims.Subject] = subject, [EtsClaims.Roles] = new[] { role } };
        if (EtsClaims.ScopeOf(role) is { } scopeClaim && scope is not null) claims[scopeClaim] = scope;
        return claims;
    }
}
