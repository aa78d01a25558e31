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
        var claims = new Dictionary<string, object>
        {
            [EtsClaims.Subject] = scope is null ? $"local:{role}" : $"local:{role}:{scope}",
            [EtsClaims.Roles] = new[] { role },
        };
        var scopeClaim = role switch
        {
            Roles.District => EtsClaims.District,
            Roles.Unit => EtsClaims.UnitId,
            Roles.Verifier => EtsClaims.VerifierId,
            Roles.Participant => EtsClaims.ParticipantId,
            _ => null,
        };
        if (scopeClaim is not null && scope is not null) claims[scopeClaim] = scope;
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
}
