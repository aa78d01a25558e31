using System.Security.Claims;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Market;

/// <summary>Who trades: a unit for its own account, or a voluntary participant for its own (Art. 17).</summary>
public static class MarketAccess
{
    public static readonly string[] TraderRoles = [Roles.Unit, Roles.Participant];

    /// <summary>The USCC the caller trades as, or null when the caller is not a trader.</summary>
    public static string? Trader(ClaimsPrincipal user) =>
        user.IsInRole(Roles.Unit) ? user.FindFirstValue(EtsClaims.UnitId)?.ToUpperInvariant()
        : user.IsInRole(Roles.Participant) ? user.FindFirstValue(EtsClaims.ParticipantId)?.ToUpperInvariant()
        : null;

    /// <summary>The exchange and the regulator see every participant; a trader sees only itself.</summary>
    public static bool MaySee(ClaimsPrincipal user, string participant) =>
        user.IsInRole(Roles.Exchange) || user.IsInRole(Roles.Regulator) || string.Equals(Trader(user), participant, StringComparison.OrdinalIgnoreCase);
}
